#!/usr/bin/env node
import { run } from "./program.js";

run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    // Not an expected error: a bug. Say so plainly, with the trace for the report.
    process.stderr.write(`mkbundle: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 1;
  },
);
