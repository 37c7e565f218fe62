#!/usr/bin/env node
// gzip deflates blocks on libuv's thread pool, which is sized once, at its first use, with 4
// threads unless told otherwise: one per core (up to 8) plus one for file I/O; a value the
// user set is kept. (The only write to the environment: it is read by libuv, not by us.)
import { availableParallelism } from "node:os";
process.env["UV_THREADPOOL_SIZE"] ??= String(Math.min(availableParallelism(), 8) + 1);
import "./young-generation.js";
import { processEnvironment } from "../config/environment.js";
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
run(process.argv.slice(2), { env: processEnvironment(), out: process.stdout, err: process.stderr }).then(
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
