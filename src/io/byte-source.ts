// Random-access bytes: an image on disk is read where needed, never loaded whole.
import { closeSync, fstatSync, openSync, readSync, statSync } from "node:fs";
import { Readable } from "node:stream";

export interface ByteSource {
  size: number;
  /** Exactly `length` bytes at `offset`, or fewer at the end of the source. */
  read(offset: number, length: number): Buffer;
  /** As read, into `target` (its length is the length asked for); returns the bytes read. */
  readInto?(target: Buffer, offset: number): number;
  close(): void;
}

/**
 * `target.length` bytes at `offset` into `target` (fewer at the end); returns how many. Loops
 * that read a whole source reuse one buffer this way: a fresh buffer per piece outlived
 * V8's young generation and left tens of MiB of dead buffers between full collections.
 */
export function readInto(src: ByteSource, target: Buffer, offset: number): number {
  if (src.readInto) return src.readInto(target, offset);
  const piece = src.read(offset, target.length);
  return piece.copy(target);
}

export function bufferSource(buf: Buffer): ByteSource {
  return {
    size: buf.length,
    read: (o, n) => buf.subarray(Math.min(o, buf.length), Math.min(o + n, buf.length)),
    readInto: (t, o) => buf.copy(t, 0, Math.min(o, buf.length), Math.min(o + t.length, buf.length)),
    close: () => {},
  };
}

export function fileSource(path: string): ByteSource {
  const fd = openSync(path, "r");
  const size = fstatSync(fd).size;
  return {
    size,
    read: (offset, length) => readAt(fd, size, offset, length),
    readInto: (target, offset) => readFully(fd, size, target, offset),
    close: () => closeSync(fd),
  };
}

function readAt(fd: number, size: number, offset: number, length: number): Buffer {
  const out = Buffer.allocUnsafe(Math.max(0, Math.min(length, size - offset)));
  const done = readFully(fd, size, out, offset);
  return done === out.length ? out : out.subarray(0, done);
}

function readFully(fd: number, size: number, target: Buffer, offset: number): number {
  const n = Math.max(0, Math.min(target.length, size - offset));
  let done = 0;
  while (done < n) {
    const got = readSync(fd, target, done, n - done, offset + done);
    if (got === 0) break;
    done += got;
  }
  return done;
}

/**
 * A file read where needed, opened for each read: no descriptor outlives a read, so entries
 * that point into it (a blob in the store) can be kept as long as the build needs them.
 */
export function pathSource(path: string): ByteSource {
  const size = statSync(path).size;
  const withFd = <T>(use: (fd: number) => T): T => {
    const fd = openSync(path, "r");
    try {
      return use(fd);
    } finally {
      closeSync(fd);
    }
  };
  return {
    size,
    read: (offset, length) => withFd((fd) => readAt(fd, size, offset, length)),
    readInto: (target, offset) => withFd((fd) => readFully(fd, size, target, offset)),
    close: () => {},
  };
}

/**
 * Streams a byte range in 1 MiB pieces, reading one piece ahead: Readable.from's default
 * (16 objects) held up to 16 MiB per open stream, which a large image paid for in RSS.
 */
export function rangeStream(src: ByteSource, ranges: readonly { offset: number; length: number }[]): Readable {
  return Readable.from(
    (function* () {
      for (const r of ranges) {
        for (let at = 0; at < r.length; at += 1 << 20) yield src.read(r.offset + at, Math.min(1 << 20, r.length - at));
      }
    })(),
    { highWaterMark: 1 },
  );
}

export const isByteSource = (x: unknown): x is ByteSource =>
  typeof x === "object" &&
  x !== null &&
  typeof (x as ByteSource).read === "function" &&
  typeof (x as ByteSource).size === "number";

/**
 * The whole source in pieces read into `scratch`, one reused buffer: each piece is
 * overwritten by the next, so only for a consumer that is done with a piece before it asks
 * for the next (it copies, hashes or writes it at once).
 */
export function* borrowedPieces(src: ByteSource, scratch: Buffer): Generator<Buffer> {
  for (let at = 0; at < src.size;) {
    const n = readInto(src, scratch.subarray(0, Math.min(scratch.length, src.size - at)), at);
    if (n === 0) return;
    yield scratch.subarray(0, n);
    at += n;
  }
}

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
    readInto: (t, o) => (o >= size ? 0 : readInto(src, t.subarray(0, Math.min(t.length, size - o)), offset + o)),
    close: () => {},
  };
}
