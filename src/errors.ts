// The one error model. An expected failure is an MkError: a code that says which kind of
// failure it is (and so its exit status), and diagnostics that name the file, line,
// extension or URL with a hint. The CLI prints them in one place (cli/program.ts); any
// other exception is a bug and is printed with its stack trace.

export type Severity = "error" | "warning";

/** A problem found in user input, with the position a reviewer needs to fix it. */
export interface Diagnostic {
  severity: Severity;
  file: string;
  line: number; // 1-based; 0 when the problem has no position (e.g. an unreadable file)
  column: number; // 1-based
  path: string; // key path like "files[0].mode", or "" for the whole document
  message: string;
  hint?: string;
}

/**
 * What kind of failure: usage, manifest and input are the user's to fix before anything
 * runs, and budget before anything is written (exit 2); the rest happen while building or
 * booting (exit 1).
 */
export type ErrorCode =
  | "usage" // arguments, options, environment values
  | "manifest" // schema and semantic validation
  | "input" // a file given to mkbundle that is not what it should be (bundle, lock, image)
  | "resolve" // extensions, gems or the base missing or unavailable
  | "fetch" // a download failed
  | "verify" // bytes that do not match their pin
  | "format" // a corrupt or hostile container
  | "lookup" // a path asked for is not in the container
  | "build" // the overlay cannot be compiled, the prod audit failed
  | "budget" // the image is larger than the manifest's budget: allows
  | "boot" // QEMU missing or broken, a boot test failed
  | "io"; // the file system said no: disk full, permission denied

const EXIT_STATUS: Record<ErrorCode, 1 | 2> = {
  usage: 2,
  manifest: 2,
  input: 2,
  resolve: 1,
  fetch: 1,
  verify: 1,
  format: 1,
  lookup: 1,
  build: 1,
  budget: 2,
  boot: 1,
  io: 1,
};

export class MkError extends Error {
  readonly diagnostics: Diagnostic[];
  /** Already printed (e.g. a failed boot test's report): the CLI only sets the exit status. */
  readonly reported: boolean;

  constructor(
    readonly code: ErrorCode,
    problems: string | Diagnostic | readonly (string | Diagnostic)[],
    opts: { file?: string; hint?: string; reported?: boolean } = {},
  ) {
    const list = (Array.isArray(problems) ? problems : [problems]) as (string | Diagnostic)[];
    const diagnostics = list.map((p) => (typeof p === "string" ? problem(opts.file ?? "", p, opts.hint) : p));
    super(
      diagnostics.map((d) => (d.file ? formatDiagnostic(d) : `${d.message}${d.hint ? ` (${d.hint})` : ""}`)).join("\n"),
    );
    this.diagnostics = diagnostics;
    this.reported = opts.reported ?? false;
  }

  get exitStatus(): number {
    return EXIT_STATUS[this.code];
  }
}

/** A command run elsewhere (mkbundle exec's, in a guest) failed: its own exit status, passed through. */
export class PassedExitStatus extends MkError {
  constructor(readonly status: number) {
    super("boot", [], { reported: true });
  }

  override get exitStatus(): number {
    return this.status;
  }
}

/** A malformed or hostile container: says which format and what is wrong (exit 1). */
export class FormatError extends MkError {
  constructor(
    readonly format: string,
    /** What is wrong, without the format's name: for messages that name the container. */
    readonly detail: string,
  ) {
    super("format", `${format}: ${detail}`);
  }
}

export function problem(file: string, message: string, hint?: string): Diagnostic {
  return { severity: "error", file, line: 0, column: 0, path: "", message, ...(hint ? { hint } : {}) };
}

export const usageError = (message: string, hint?: string, where = "mkbundle"): MkError =>
  new MkError("usage", problem(where, message, hint));

const CONTROL = /[\x00-\x1f\x7f-\x9f]/;
const CONTROLS = /[\x00-\x1f\x7f-\x9f]/g;

/**
 * Text as it may reach a terminal: control characters (ESC, newline, C1) as \xNN, so a name
 * from a file, an archive or a registry can neither drive the terminal nor pose as another line.
 */
export const escapeControls = (s: string): string =>
  CONTROL.test(s) ? s.replace(CONTROLS, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`) : s;

/** One line: every part escaped. */
export function formatDiagnostic(d: Diagnostic): string {
  const where = d.line > 0 ? `${d.file}:${d.line}:${d.column}` : d.file;
  const label = d.severity === "warning" ? "warning: " : "";
  const key = d.path ? `${d.path}: ` : "";
  const hint = d.hint ? ` (${d.hint})` : "";
  return escapeControls(`${where || "mkbundle"}: ${label}${key}${d.message}${hint}`);
}

export function byPosition(a: Diagnostic, b: Diagnostic): number {
  return a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column || a.path.localeCompare(b.path);
}

/** Enough to fix a file in one pass; the rest (a generated or damaged file) is counted, not printed. */
const MAX_DIAGNOSTICS = 100;

export function capDiagnostics(ds: Diagnostic[], file: string): Diagnostic[] {
  if (ds.length <= MAX_DIAGNOSTICS) return ds;
  const rest = ds.length - MAX_DIAGNOSTICS;
  const errors = ds.slice(MAX_DIAGNOSTICS).some((d) => d.severity === "error");
  return [
    ...ds.slice(0, MAX_DIAGNOSTICS),
    {
      ...problem(file, `${rest} more problem${rest > 1 ? "s" : ""} not shown`),
      severity: errors ? "error" : "warning",
    },
  ];
}

export const hasErrors = (ds: readonly Diagnostic[]): boolean => ds.some((d) => d.severity === "error");

/** Joins a key path: ["files", 0, "mode"] -> "files[0].mode". */
export function keyPath(segments: readonly (string | number)[]): string {
  let out = "";
  for (const s of segments) out += typeof s === "number" ? `[${s}]` : out ? `.${s}` : s;
  return out;
}

/** Runs `work`; problems it raises without a file are attributed to `file` (the manifest, the bundle). */
export async function attributedTo<T>(file: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    if (e instanceof MkError && e.diagnostics.some((d) => !d.file)) {
      throw new MkError(
        e.code,
        e.diagnostics.map((d) => (d.file ? d : { ...d, file })),
        { reported: e.reported },
      );
    }
    throw e;
  }
}

/** File-system errors the user can act on (a full disk, a read-only directory, a missing path). */
const ENVIRONMENT_ERRNOS = new Set([
  "ENOSPC",
  "EDQUOT",
  "EACCES",
  "EPERM",
  "EROFS",
  "ENOENT",
  "ENOTDIR",
  "EISDIR",
  "EEXIST",
  "ELOOP",
  "EMFILE",
  "ENFILE",
  "EIO",
  "ENAMETOOLONG",
  "EXDEV",
  "EFBIG",
]);

/** "no space left on device (ENOSPC)": the system's words for an errno error, without its path. */
export function errnoReason(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (!(e instanceof Error) || !err.code) return String(e);
  return `${err.message.replace(/^[A-Z]+: /, "").replace(/, \w+( '.*')?$/, "")} (${err.code})`;
}

/** An error from the operating system about a path, as an MkError; undefined for anything else. */
export function fromSystemError(e: unknown): MkError | undefined {
  const err = e as NodeJS.ErrnoException;
  if (!(e instanceof Error) || !err.code || !ENVIRONMENT_ERRNOS.has(err.code) || !err.syscall) return undefined;
  const path = err.path ? `${err.path}` : "mkbundle";
  const dest = (err as { dest?: string }).dest;
  return new MkError("io", problem(path, `cannot ${err.syscall}${dest ? ` to ${dest}` : ""}: ${errnoReason(err)}`));
}
