// Boots an image under QEMU (software emulation here) and waits for serial console output.
import { spawn } from "node:child_process";

export interface BootResult {
  matched: boolean;
  console: string;
  seconds: number;
}

/** Resolves when `expect` appears on the serial console or after `timeoutSeconds`; QEMU is always killed. */
export function bootUntil(args: string[], expect: RegExp, timeoutSeconds = 120): Promise<BootResult> {
  const started = Date.now();
  const qemu = spawn("qemu-system-x86_64", ["-m", "512", "-nographic", "-no-reboot", "-monitor", "none", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  return new Promise((resolve, reject) => {
    const finish = (matched: boolean) => {
      clearTimeout(timer);
      qemu.kill("SIGKILL");
      resolve({ matched, console: output, seconds: (Date.now() - started) / 1000 });
    };
    const timer = setTimeout(() => finish(false), timeoutSeconds * 1000);
    const onData = (d: Buffer) => {
      output += d.toString("latin1");
      if (expect.test(output.replace(/\x1b\[[0-9;?]*[a-zA-Z]/g, ""))) finish(true);
    };
    qemu.stdout.on("data", onData);
    qemu.stderr.on("data", onData);
    qemu.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    qemu.on("exit", () => finish(false));
  });
}
