// QEMU never outlives mkbundle, whatever ends mkbundle. A watchdog shell holds a pipe from
// us and blocks reading it: when we die (even by SIGKILL) the kernel closes the pipe, the
// read returns, and the watchdog kills QEMU. On SIGINT and SIGTERM the CLI kills QEMU
// itself before it exits (util/cleanup.ts).
import { spawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import { onInterrupt } from "../io/cleanup.js";

export interface GuardedProcess {
  process: ChildProcess;
  /** Kills QEMU (SIGKILL) and its watchdog; safe to call more than once. */
  kill(): void;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function spawnGuarded(command: string, args: readonly string[], opts: SpawnOptions): GuardedProcess {
  const child = spawn(command, args, opts);
  let watchdog: ChildProcess | undefined;
  if (child.pid !== undefined) {
    watchdog = spawn(
      "/bin/sh",
      ["-c", 'read _; kill -9 "$1" 2>/dev/null', "mkbundle-qemu-watchdog", String(child.pid)],
      { stdio: ["pipe", "ignore", "ignore"], detached: true },
    );
    watchdog.on("error", () => {}); // no /bin/sh: SIGINT and SIGTERM are still handled below
    watchdog.unref();
    (watchdog.stdin as { unref?: () => void } | null)?.unref?.();
  }
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on("exit", (code, signal) => resolve({ code, signal }));
    child.on("error", () => resolve({ code: null, signal: null }));
  });
  let forget = (): void => {};
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    if (watchdog && watchdog.exitCode === null && watchdog.signalCode === null) watchdog.kill("SIGKILL");
    forget();
  };
  forget = onInterrupt(kill);
  void exited.then(kill);
  return { process: child, kill, exited };
}
