// Runs the built mkbundle binary as a user would (npm test builds first).
import { spawn, spawnSync } from "node:child_process";
import { join } from "node:path";
import { repoRoot } from "./paths.js";

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

const BIN = join(repoRoot, "dist", "src", "cli", "main.js");

export function mkbundle(args: string[], opts: { cwd?: string; env?: Record<string, string | undefined> } = {}): CliResult {
  // A clean environment: no MK_BUNDLE_* from the developer's shell leaks into a test.
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("MK_BUNDLE_") && k !== "SOURCE_DATE_EPOCH"));
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: opts.cwd ?? repoRoot, env: { ...base, ...opts.env }, encoding: "utf8", timeout: 120_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** As mkbundle(), without blocking the event loop: for tests that serve HTTP in-process. */
export function mkbundleAsync(args: string[], opts: { cwd?: string; env?: Record<string, string | undefined> } = {}): Promise<CliResult> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("MK_BUNDLE_") && k !== "SOURCE_DATE_EPOCH"));
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: opts.cwd ?? repoRoot, env: { ...base, ...opts.env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}
