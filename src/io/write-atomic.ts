// Outputs are written to a temporary file beside their final name and renamed into place
// when complete. The temporary name is random and created exclusively, never through a
// symlink someone planted; rename replaces a symlink at the final name instead of following
// it. An interrupted run removes its temporary files (util/cleanup.ts).
import { randomBytes } from "node:crypto";
import { closeSync, constants, lstatSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { createHash } from "node:crypto";
import { basename, dirname, join } from "node:path";
import { hashFile } from "./hash.js";
import { giveBuffer, takeBuffer } from "./buffer-pool.js";
import { onInterrupt } from "./cleanup.js";

function writeFully(fd: number, b: Buffer): void {
  for (let off = 0; off < b.length;) off += writeSync(fd, b, off, b.length - off);
}

const BATCH = 1 << 20;

/**
 * Writes buffers (or a stream of them) to fd, calling `seen` on each. Small chunks are
 * copied into one 1 MiB batch and large ones written as they come, so no chunk is kept
 * once the next is asked for: a producer may hand out one reused buffer.
 */
async function writeAll(
  fd: number,
  data: Buffer | readonly Buffer[] | AsyncIterable<Buffer> | Iterable<Buffer>,
  seen?: (c: Buffer) => void,
): Promise<void> {
  if (Buffer.isBuffer(data) || Array.isArray(data)) {
    // The caller's own buffers, all present: written as they are, no batch needed.
    for (const c of Buffer.isBuffer(data) ? [data] : (data as readonly Buffer[])) {
      seen?.(c);
      writeFully(fd, c);
    }
    return;
  }
  const chunks = data;
  let batch: Buffer | undefined;
  let fill = 0;
  const flush = () => {
    if (batch && fill) writeFully(fd, batch.subarray(0, fill));
    fill = 0;
  };
  try {
    for await (const c of chunks as AsyncIterable<Buffer>) {
      seen?.(c);
      if (c.length >= BATCH / 4) {
        flush();
        writeFully(fd, c);
        continue;
      }
      batch ??= takeBuffer(BATCH);
      if (fill + c.length > BATCH) flush();
      fill += c.copy(batch, fill);
    }
    flush();
  } finally {
    if (batch) giveBuffer(batch);
  }
}

/** A new, empty temporary file beside `path`: its name, its descriptor, and how to forget it. */
function createTemp(path: string): { tmp: string; fd: number; done: () => void } {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(8).toString("hex")}.tmp`);
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
  const forget = onInterrupt(() => rmSync(tmp, { force: true }));
  return { tmp, fd, done: forget };
}

/** An errno error from writing `path`'s temporary file, named by `path` (a write(2) error names no file). */
function naming(e: unknown, path: string): unknown {
  const err = e as NodeJS.ErrnoException;
  if (e instanceof Error && err.code && !err.path) err.path = path;
  return e;
}

/** A regular file (not a symlink, not a directory) at `path`, with its size; undefined otherwise. */
function regularFile(path: string): { size: number } | undefined {
  const st = lstatSync(path, { throwIfNoEntry: false });
  return st?.isFile() ? { size: st.size } : undefined;
}

/**
 * Writes to a temporary name beside `path` and renames it into place only when complete:
 * an interrupted or failed write never leaves a half-written file under the final name.
 * (No fsync: outputs are rebuilt from the cache at will, and it costs more than the write.)
 */
export async function writeFileAtomic(
  path: string,
  data: Buffer | readonly Buffer[] | AsyncIterable<Buffer>,
): Promise<void> {
  const { tmp, fd, done } = createTemp(path);
  try {
    await writeAll(fd, data);
    closeSync(fd);
    renameSync(tmp, path);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw naming(e, path);
  } finally {
    done();
  }
}

/**
 * Streams to a temporary file beside `path` while hashing; renames it into place unless a file
 * with the same sha256 is already there (then nothing is rewritten). Returns the digest and size.
 */
export async function writeIfChanged(
  path: string,
  chunks: AsyncIterable<Buffer> | Iterable<Buffer>,
): Promise<{ sha256: string; size: number; written: boolean }> {
  const { sha256, size, written } = await placeHashed(path, () => path, chunks, path);
  return { sha256, size, written };
}

/**
 * Streams to a temporary file in `dir` while hashing, then names it by its digest
 * (`name(sha256)`), unless that file is already there with these bytes.
 */
export function writeContentAddressed(
  dir: string,
  name: (sha256: string) => string,
  chunks: AsyncIterable<Buffer> | Iterable<Buffer>,
): Promise<{ path: string; sha256: string; size: number; written: boolean }> {
  return placeHashed(join(dir, "content"), (sha256) => join(dir, name(sha256)), chunks, dir);
}

/**
 * The one way both of the above write: a temporary file beside `beside`, hashed as it is
 * written, renamed to `target(sha256)` unless a regular file there already has these bytes.
 * Errors name `shown` (the output, or the directory it goes in).
 */
async function placeHashed(
  beside: string,
  target: (sha256: string) => string,
  chunks: AsyncIterable<Buffer> | Iterable<Buffer>,
  shown: string,
): Promise<{ path: string; sha256: string; size: number; written: boolean }> {
  const { tmp, fd, done } = createTemp(beside);
  const hash = createHash("sha256");
  let size = 0;
  try {
    try {
      await writeAll(fd, chunks, (c) => {
        hash.update(c);
        size += c.length;
      });
    } finally {
      closeSync(fd);
    }
    const sha256 = hash.digest("hex");
    const path = target(sha256);
    if (regularFile(path)?.size === size && (await hashFile(path)).sha256 === sha256) {
      rmSync(tmp, { force: true });
      return { path, sha256, size, written: false };
    }
    renameSync(tmp, path);
    return { path, sha256, size, written: true };
  } catch (e) {
    rmSync(tmp, { force: true });
    throw naming(e, shown);
  } finally {
    done();
  }
}

/** Streams into a new file (never an existing one, never through a symlink), hashing as it goes. */
export async function writeNewFile(
  path: string,
  chunks: AsyncIterable<Buffer> | Iterable<Buffer>,
): Promise<{ sha256: string; size: number }> {
  const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
  const hash = createHash("sha256");
  let size = 0;
  try {
    await writeAll(fd, chunks, (c) => {
      hash.update(c);
      size += c.length;
    });
  } catch (e) {
    throw naming(e, path);
  } finally {
    closeSync(fd);
  }
  return { sha256: hash.digest("hex"), size };
}
