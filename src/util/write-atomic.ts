import { closeSync, openSync, renameSync, rmSync, writevSync } from "node:fs";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";

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

/** Writes buffers (or a stream of them) to fd in 8 MiB batches, calling `seen` on each. */
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
    if (pending >= 8 << 20) {
      writeBuffers(fd, batch);
      [batch, pending] = [[], 0];
    }
  }
  writeBuffers(fd, batch);
}

const tempBeside = (path: string) => join(dirname(path), `.${basename(path)}.tmp-${process.pid}`);

/**
 * Writes to a temporary name beside `path` and renames it into place only when complete:
 * an interrupted or failed write never leaves a half-written file under the final name.
 * (No fsync: outputs are rebuilt from the cache at will, and it costs more than the write.)
 */
export async function writeFileAtomic(
  path: string,
  data: Buffer | readonly Buffer[] | AsyncIterable<Buffer>,
): Promise<void> {
  const tmp = tempBeside(path);
  const fd = openSync(tmp, "w");
  try {
    await writeAll(fd, data);
    closeSync(fd);
    renameSync(tmp, path);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
}

/**
 * Streams to a temporary file while hashing; renames it into place unless a file with the
 * same sha256 is already there (then nothing is rewritten). Returns the digest and size.
 */
export async function writeIfChanged(
  path: string,
  chunks: AsyncIterable<Buffer> | Iterable<Buffer>,
): Promise<{ sha256: string; size: number; written: boolean }> {
  const tmp = tempBeside(path);
  const fd = openSync(tmp, "w");
  const hash = createHash("sha256");
  let size = 0;
  try {
    await writeAll(fd, chunks, (c) => {
      hash.update(c);
      size += c.length;
    });
    closeSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  const sha256 = hash.digest("hex");
  if (
    existsSync(path) &&
    statSync(path).size === size &&
    createHash("sha256").update(readFileSync(path)).digest("hex") === sha256
  ) {
    rmSync(tmp, { force: true });
    return { sha256, size, written: false };
  }
  renameSync(tmp, path);
  return { sha256, size, written: true };
}
