// One writer at a time for a file that several mkbundle processes read, change and write
// back (SHA256SUMS and the state file in a shared --out): a lock file made with O_EXCL beside
// it, holding the owner's pid. A lock whose owner is gone (killed) is taken over; one held
// longer than the wait is an error naming the owner. Interrupted, the lock is removed.
import { closeSync, constants, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { processGone } from "./process-gone.js";
import { MkError } from "../errors.js";
import { onInterrupt } from "./cleanup.js";

const WAIT_MS = 120_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs `work` while holding `${path}.lock`. */
export async function withFileLock<T>(path: string, work: () => Promise<T>): Promise<T> {
  const lock = `${path}.lock`;
  const deadline = Date.now() + WAIT_MS;
  for (let wait = 5; ; wait = Math.min(wait * 2, 100)) {
    try {
      const fd = openSync(
        lock,
        constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
        0o644,
      );
      try {
        writeSync(fd, `${process.pid}\n`);
      } finally {
        closeSync(fd);
      }
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
    const owner = lockOwner(lock);
    if (owner === undefined) continue; // released meanwhile
    // Its owner was killed (or wrote nothing yet and died): take it over.
    if (processGone(owner)) {
      rmSync(lock, { force: true });
      continue;
    }
    if (Date.now() > deadline)
      throw new MkError("build", `${lock} is held by process ${owner} for more than ${WAIT_MS / 1000} s`, {
        hint: "another mkbundle is writing to the same --out; if none is, remove the lock file",
      });
    await sleep(wait);
  }
  const release = onInterrupt(() => rmSync(lock, { force: true }));
  try {
    return await work();
  } finally {
    release();
    rmSync(lock, { force: true });
  }
}

/** The pid written in a lock file (NaN when it holds none yet); undefined when it is gone. */
function lockOwner(lock: string): number | undefined {
  try {
    return Number(readFileSync(lock, "utf8").trim());
  } catch {
    return undefined;
  }
}
