// How stages report progress and warnings: the CLI prints them on stderr (cli/output.ts),
// tests and library callers may collect or drop them.
import type { Diagnostic } from "./errors.js";

export interface Log {
  info(msg: string): void;
  verbose(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
  diagnostics(ds: readonly Diagnostic[]): void;
}

export const silentLog: Log = { info() {}, verbose() {}, warn() {}, error() {}, diagnostics() {} };

/** A log that keeps every line, for tests and for reports. */
export function memoryLog(): Log & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    info: (m) => void lines.push(m),
    verbose: (m) => void lines.push(m),
    warn: (m) => void lines.push(`warning: ${m}`),
    error: (m) => void lines.push(`error: ${m}`),
    diagnostics: (ds) => void lines.push(...ds.map((d) => `${d.file}: ${d.message}`)),
  };
}
