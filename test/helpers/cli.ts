// Runs the built mkbundle binary as a user would (npm test builds first).
import { spawn, spawnSync } from "node:child_process";
import { Writable } from "node:stream";
import { join } from "node:path";
import { fixturesDir, repoRoot } from "./paths.js";

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export const BIN = join(repoRoot, "dist", "src", "cli", "main.js");

/** A clean environment: no MK_BUNDLE_* or SOURCE_DATE_EPOCH from the developer's shell leaks into a test. */
export function cleanEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const base = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) =>
        !k.startsWith("MK_BUNDLE_") &&
        !k.startsWith("MKBUNDLE_MAX_") &&
        k !== "SOURCE_DATE_EPOCH" &&
        k !== "MKBUNDLE_ACCEL",
    ),
  );
  return { ...base, ...extra };
}

/** The CLI is killed only after any --timeout it was given, plus a minute for the rest of its work. */
function killAfterMs(args: readonly string[]): number {
  const i = args.indexOf("--timeout");
  const given = i >= 0 ? Number(args[i + 1]) : 0;
  return Math.max(120, (Number.isFinite(given) ? given : 0) + 60) * 1000;
}

export function mkbundle(
  args: string[],
  opts: { cwd?: string; env?: Record<string, string | undefined> } = {},
): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: opts.cwd ?? repoRoot,
    env: cleanEnv(opts.env),
    encoding: "utf8",
    timeout: killAfterMs(args),
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** As mkbundle(), without blocking the event loop: for tests that serve HTTP in-process. */
export function mkbundleAsync(
  args: string[],
  opts: { cwd?: string; env?: Record<string, string | undefined> } = {},
): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: opts.cwd ?? repoRoot,
      env: cleanEnv(opts.env),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), killAfterMs(args));
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

/**
 * The CLI run in this process (`run(argv, io)` with captured streams and `env` as its whole
 * environment): what mkbundle prints and its exit status, without starting Node. For stage
 * behaviour; what only a process shows (signals, a closed stdout, a crash) keeps spawning.
 */
export async function mkbundleIn(
  args: string[],
  opts: { env?: Record<string, string | undefined> } = {},
): Promise<CliResult> {
  const { run } = await import("../../src/cli/program.js");
  const capture = () => {
    const chunks: Buffer[] = [];
    const stream = new Writable({
      write(chunk: Buffer | string, _enc, done) {
        chunks.push(Buffer.from(chunk));
        done();
      },
    });
    return { stream, text: () => Buffer.concat(chunks).toString("utf8") };
  };
  const [out, err] = [capture(), capture()];
  const code = await run(args, { env: Object.freeze(cleanEnv(opts.env)), out: out.stream, err: err.stream });
  return { code, stdout: out.text(), stderr: err.text() };
}

/** `mkbundle build MANIFEST` in this process, on the fixtures' mirror, with a work and an output directory. */
export const buildOnFixtures = (
  manifest: string,
  dirs: { workDir: string; out: string },
  more: string[] = [],
  env: Record<string, string> = {},
): Promise<CliResult> =>
  mkbundleIn(
    [
      "build",
      manifest,
      "--mirror",
      join(fixturesDir(), "tinycore"),
      "--work-dir",
      dirs.workDir,
      "--out",
      dirs.out,
      ...more,
    ],
    { env },
  );
