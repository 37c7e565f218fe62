import { execFileSync } from "node:child_process";

/** Runs a shell command line (for the oracle tools); throws with its stderr on failure. */
export function sh(command: string, opts: { cwd?: string; input?: Buffer } = {}): Buffer {
  return execFileSync("sh", ["-c", command], {
    cwd: opts.cwd,
    input: opts.input,
    maxBuffer: 1 << 30,
    stdio: ["pipe", "pipe", "pipe"],
  });
}

export const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
