// A problem found in user input, with the position a reviewer needs to fix it.
export type Severity = "error" | "warning";

export interface Diagnostic {
  severity: Severity;
  file: string;
  line: number; // 1-based; 0 when the problem has no position (e.g. an unreadable file)
  column: number; // 1-based
  path: string; // key path like "files[0].mode", or "" for the whole document
  message: string;
  hint?: string;
}

export function formatDiagnostic(d: Diagnostic): string {
  const where = d.line > 0 ? `${d.file}:${d.line}:${d.column}` : d.file;
  const label = d.severity === "warning" ? "warning: " : "";
  const key = d.path ? `${d.path}: ` : "";
  const hint = d.hint ? ` (${d.hint})` : "";
  return `${where}: ${label}${key}${d.message}${hint}`;
}

export function byPosition(a: Diagnostic, b: Diagnostic): number {
  return a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column || a.path.localeCompare(b.path);
}

export const hasErrors = (ds: readonly Diagnostic[]): boolean => ds.some((d) => d.severity === "error");

/** Joins a key path: ["files", 0, "mode"] -> "files[0].mode". */
export function keyPath(segments: readonly (string | number)[]): string {
  let out = "";
  for (const s of segments) out += typeof s === "number" ? `[${s}]` : out ? `.${s}` : s;
  return out;
}

/** An expected failure: printed as its diagnostics, no stack trace, with an exit code. */
export class UserError extends Error {
  constructor(
    readonly diagnostics: Diagnostic[],
    readonly exitCode: 1 | 2 = 2,
  ) {
    super(diagnostics.map(formatDiagnostic).join("\n"));
  }
}

export function fileError(file: string, message: string, hint?: string): Diagnostic {
  return { severity: "error", file, line: 0, column: 0, path: "", message, ...(hint ? { hint } : {}) };
}
