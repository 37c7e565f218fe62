#!/usr/bin/env node
import { exitOnSignals, run } from "./program.js";

exitOnSignals();
run(process.argv.slice(2)).then(
  (status) => {
    process.exitCode = status;
  },
  (e: unknown) => {
    // Not an expected error: a bug. Say so plainly, with the trace for the report.
    process.stderr.write(`mkbundle: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 1;
  },
);
