// Logs go to stderr, results to stdout. -q silences info and warnings; errors always print.
import { formatDiagnostic } from "../errors.js";
import { drained } from "../io/drained.js";
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

const BATCH = 64 * 1024;

export interface LineSink {
  /** One line; a promise only when the reader is slow and the batch must wait. */
  line(text: string): void | Promise<void>;
  end(): Promise<void>;
}

/**
 * Lines on standard output as they come, in batches, waiting when the reader is slow: a
 * listing of a million entries is never one string. Lines after the reader went away
 * (| head) are dropped.
 */
export function lineSink(out: NodeJS.WritableStream): LineSink {
  let batch = "";
  const flush = async () => {
    const text = batch;
    batch = "";
    if ((out as { destroyed?: boolean }).destroyed) return;
    if (!out.write(text)) await drained(out);
  };
  return {
    line(text) {
      batch += text + "\n";
      return batch.length >= BATCH ? flush() : undefined;
    },
    end: () => (batch ? flush() : Promise.resolve()),
  };
}
