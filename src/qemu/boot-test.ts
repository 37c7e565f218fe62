// Boots headless and waits until every console regex has appeared and every HTTP check has
// passed, or the timeout. QEMU is always killed: on success, failure, timeout or Ctrl-C.
import { spawn } from "node:child_process";
import { httpCheckOnce, type HttpCheck } from "./checks.js";
import { QEMU_BINARY } from "./args.js";

export interface BootTestResult {
  passed: boolean;
  seconds: number;
  console: string;
  missing: string[];
  exit?: string;
}

const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;

export async function bootTest(args: string[], expect: readonly RegExp[], http: readonly HttpCheck[], timeoutSeconds: number, onConsole?: (text: string) => void): Promise<BootTestResult> {
  const started = Date.now();
  const qemu = spawn(QEMU_BINARY, args, { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  let exitInfo: string | undefined;
  const seen = new Set<number>();
  const httpOk = new Set<number>();
  const httpLast = new Map<number, string>();
  qemu.stdout.on("data", (d: Buffer) => {
    const t = d.toString("latin1");
    output += t;
    onConsole?.(t);
  });
  qemu.stderr.on("data", (d: Buffer) => (output += d.toString("latin1")));
  const exited = new Promise<void>((resolve) =>
    qemu.on("exit", (code, signal) => {
      exitInfo = signal ? `QEMU was killed (${signal})` : `QEMU exited with code ${code}`;
      resolve();
    }),
  );
  const spawnError = new Promise<Error>((resolve) => qemu.on("error", resolve));
  const kill = () => qemu.exitCode === null && qemu.kill("SIGKILL");
  const onSignal = () => {
    kill();
    process.exit(130);
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    for (;;) {
      const text = output.replace(ANSI, "");
      expect.forEach((re, i) => re.test(text) && seen.add(i));
      for (const [i, c] of http.entries()) {
        if (httpOk.has(i)) continue;
        const r = await httpCheckOnce(c);
        httpLast.set(i, r.last);
        if (r.ok) httpOk.add(i);
      }
      const done = seen.size === expect.length && httpOk.size === http.length;
      const late = (Date.now() - started) / 1000 > timeoutSeconds;
      const err = await Promise.race([spawnError, new Promise<undefined>((r) => setTimeout(() => r(undefined), done || late || exitInfo ? 0 : 250))]);
      if (err) throw err;
      if (done || late || exitInfo) {
        const missing = [...expect.filter((_, i) => !seen.has(i)).map((re) => `console never showed /${re.source}/`), ...http.flatMap((c, i) => (httpOk.has(i) ? [] : [`${c.url} never answered /${c.body.source}/ (last: ${httpLast.get(i) ?? "no answer"})`]))];
        return { passed: done, seconds: (Date.now() - started) / 1000, console: output, missing, ...(exitInfo && !done ? { exit: exitInfo } : {}) };
      }
    }
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    kill();
    await Promise.race([exited, new Promise((r) => setTimeout(r, 2000))]);
  }
}
