// Logs go to stderr, results to stdout. -q silences info and warnings; errors always print.
import { formatDiagnostic } from "../errors.js";
import type { Log } from "../log.js";

export interface GlobalOptions {
  mirror?: string;
  workDir: string;
  out: string;
  quiet?: boolean;
  verbose?: boolean;
}

export function makeLog(opts: Pick<GlobalOptions, "quiet" | "verbose">, err: NodeJS.WritableStream): Log {
  const write = (s: string) => void err.write(s + "\n");
  return {
    info: (m) => void (!opts.quiet && write(m)),
    verbose: (m) => void (opts.verbose && !opts.quiet && write(m)),
    warn: (m) => void (!opts.quiet && write(`warning: ${m}`)),
    error: (m) => write(`error: ${m}`),
    diagnostics(ds) {
      for (const d of ds) if (d.severity === "error" || !opts.quiet) write(formatDiagnostic(d));
    },
  };
}

/** A result on standard output, a line. */
export const printTo =
  (out: NodeJS.WritableStream) =>
  (s: string): void =>
    void out.write(s.endsWith("\n") ? s : s + "\n");
