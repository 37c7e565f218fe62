import { closeSync, fsyncSync, openSync, renameSync, rmSync, writevSync } from "node:fs";
import { basename, dirname, join } from "node:path";

/** Writes buffers with writev in batches (no concatenated copy). */
export function writeBuffers(fd: number, parts: readonly Buffer[]): void {
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

/**
 * Writes to a temporary name beside `path` and renames it into place only when complete:
 * an interrupted or failed write never leaves a half-written file under the final name.
 */
export async function writeFileAtomic(path: string, data: Buffer | readonly Buffer[] | AsyncIterable<Buffer>): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}`);
  const fd = openSync(tmp, "w");
  try {
    if (Buffer.isBuffer(data)) writeBuffers(fd, [data]);
    else if (Array.isArray(data)) writeBuffers(fd, data);
    else {
      let batch: Buffer[] = [];
      let size = 0;
      for await (const c of data as AsyncIterable<Buffer>) {
        batch.push(c);
        size += c.length;
        if (size >= 8 << 20) {
          writeBuffers(fd, batch);
          [batch, size] = [[], 0];
        }
      }
      writeBuffers(fd, batch);
    }
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, path);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
}
