// Outputs are written to a temporary file beside their final name and renamed into place
// when complete. The temporary name is random and created exclusively, never through a
// symlink someone planted; rename replaces a symlink at the final name instead of following
// it. An interrupted run removes its temporary files (util/cleanup.ts).
import { randomBytes } from "node:crypto";
import { closeSync, constants, lstatSync, openSync, renameSync, rmSync, writevSync } from "node:fs";
import { createHash } from "node:crypto";
import { basename, dirname, join } from "node:path";
import { hashFile } from "../store/cas.js";
import { onInterrupt } from "./cleanup.js";

/** Writes buffers with writev in batches (no concatenated copy). */
function writeBuffers(fd: number, parts: readonly Buffer[]): void {
  for (let i = 0; i < parts.length; i += 1024) {
    let batch = parts.slice(i, i + 1024);
    let left = batch.reduce((n, b) => n + b.length, 0);
    while (left > 0) {
      const n = writevSync(fd, batch);
      left -= n;
      if (left > 0) batch = skip(batch, n);
    }
  }
}

function skip(parts: Buffer[], n: number): Buffer[] {
  const out: Buffer[] = [];
  for (const p of parts) {
    if (n >= p.length) n -= p.length;
    else {
      out.push(p.subarray(n));
      n = 0;
    }
  }
  return out;
}

/** Writes buffers (or a stream of them) to fd in 1 MiB batches, calling `seen` on each. */
async function writeAll(
  fd: number,
  data: Buffer | readonly Buffer[] | AsyncIterable<Buffer> | Iterable<Buffer>,
  seen?: (c: Buffer) => void,
): Promise<void> {
  const chunks = Buffer.isBuffer(data) ? [data] : data;
  let batch: Buffer[] = [];
  let pending = 0;
  for await (const c of chunks as AsyncIterable<Buffer>) {
    seen?.(c);
    batch.push(c);
    pending += c.length;
    if (pending >= 1 << 20) {
      writeBuffers(fd, batch);
      [batch, pending] = [[], 0];
    }
  }
  writeBuffers(fd, batch);
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
