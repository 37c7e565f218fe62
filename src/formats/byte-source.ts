// Random-access bytes: an image on disk is read where needed, never loaded whole.
import { closeSync, fstatSync, openSync, readSync, statSync } from "node:fs";
import { Readable } from "node:stream";

export interface ByteSource {
  size: number;
  /** Exactly `length` bytes at `offset`, or fewer at the end of the source. */
  read(offset: number, length: number): Buffer;
  close(): void;
}

export function bufferSource(buf: Buffer): ByteSource {
  return {
    size: buf.length,
    read: (o, n) => buf.subarray(Math.min(o, buf.length), Math.min(o + n, buf.length)),
    close: () => {},
  };
}

export function fileSource(path: string): ByteSource {
  const fd = openSync(path, "r");
  const size = fstatSync(fd).size;
  return {
    size,
    read: (offset, length) => readAt(fd, size, offset, length),
    close: () => closeSync(fd),
  };
}

function readAt(fd: number, size: number, offset: number, length: number): Buffer {
  const n = Math.max(0, Math.min(length, size - offset));
  const out = Buffer.allocUnsafe(n);
  let done = 0;
  while (done < n) {
    const got = readSync(fd, out, done, n - done, offset + done);
    if (got === 0) break;
    done += got;
  }
  return done === n ? out : out.subarray(0, done);
}

/**
 * A file read where needed, opened for each read: no descriptor outlives a read, so entries
 * that point into it (a blob in the store) can be kept as long as the build needs them.
 */
export function pathSource(path: string): ByteSource {
  const size = statSync(path).size;
  return {
    size,
    read(offset, length) {
      const fd = openSync(path, "r");
      try {
        return readAt(fd, size, offset, length);
      } finally {
        closeSync(fd);
      }
    },
    close: () => {},
  };
}

/** Streams a byte range in 1 MiB pieces. */
export function rangeStream(src: ByteSource, ranges: readonly { offset: number; length: number }[]): Readable {
  return Readable.from(
    (function* () {
      for (const r of ranges) {
        for (let at = 0; at < r.length; at += 1 << 20) yield src.read(r.offset + at, Math.min(1 << 20, r.length - at));
      }
    })(),
  );
}

export const isByteSource = (x: unknown): x is ByteSource =>
  typeof x === "object" &&
  x !== null &&
  typeof (x as ByteSource).read === "function" &&
  typeof (x as ByteSource).size === "number";

/** The whole source as 1 MiB chunks, in order. */
export async function* sourceChunks(src: ByteSource): AsyncGenerator<Buffer> {
  for (let at = 0; at < src.size; at += 1 << 20) yield src.read(at, Math.min(1 << 20, src.size - at));
}

/** A window of another source, `length` bytes from `offset`; closing it leaves the other open. */
export function sliceSource(src: ByteSource, offset: number, length: number): ByteSource {
  const size = Math.max(0, Math.min(length, src.size - offset));
  return {
    size,
    read: (o, n) => (o >= size ? Buffer.alloc(0) : src.read(offset + o, Math.min(n, size - o))),
    close: () => {},
  };
}
