#!/usr/bin/env node
// gzip and squashfs compress blocks on libuv's thread pool, which is sized once, at its first
// use, with 4 threads unless told otherwise: one per core (up to 8, at least 2); a value the
// user set is kept. A thread more than the cores only adds contention: on 2 cores, squashfs
// of 111 MiB took 3.9 s with 3 threads and 3.3 s with 2; gzip -9 of 54 MB 1.85 s and 1.81 s;
// a 200 MiB remaster 5.3 s either way. (The only write to the environment: libuv reads it.)
import { availableParallelism } from "node:os";
process.env["UV_THREADPOOL_SIZE"] ??= String(Math.max(2, Math.min(availableParallelism(), 8)));
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
