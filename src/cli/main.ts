#!/usr/bin/env node
import "./thread-pool.js";
import "./young-generation.js";
import { exitOnSignals, exitOnStdoutErrors, run } from "./program.js";

exitOnSignals();
exitOnStdoutErrors();
let settled = false;
// Nothing left to run but the command never finished: a bug, never a silent success.
process.on("beforeExit", () => {
  if (settled) return;
  settled = true;
  process.stderr.write("mkbundle: internal error: the command stopped before it finished\n");
  process.exitCode = 1;
});
run(process.argv.slice(2)).then(
  (status) => {
    settled = true;
    process.exitCode = status;
  },
  (e: unknown) => {
    settled = true;
    // Not an expected error: a bug. Say so plainly, with the trace for the report.
    process.stderr.write(`mkbundle: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 1;
  },
);
