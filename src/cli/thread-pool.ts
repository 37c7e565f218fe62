// Imported first by main.ts: gzip deflates blocks on libuv's thread pool, which is read once,
// at its first use, and has 4 threads unless told otherwise. One per core (up to 8) plus one
// for file I/O; a value the user set is kept.
import { availableParallelism } from "node:os";

process.env["UV_THREADPOOL_SIZE"] ??= String(Math.min(availableParallelism(), 8) + 1);
