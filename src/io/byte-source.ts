// Random-access bytes: an image on disk is read where needed, never loaded whole.
import { closeSync, fstatSync, openSync, readSync, statSync } from "node:fs";

export interface ByteSource {
  size: number;
  /** Exactly `length` bytes at `offset`, or fewer at the end of the source. */
  read(offset: number, length: number): Buffer;
  /** As read, into `target` (its length is the length asked for); returns the bytes read. */
  readInto?(target: Buffer, offset: number): number;
  /**
   * The size of the pieces a stream of these bytes is read in (squashfs data: whole blocks),
   * rather than 1 MiB: what the gzip writer judges, part by part, as compressed or not.
   */
  pieceSize?: number;
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
    readInto: (target, offset) => readFullyAt(fd, size, target, offset),
    close: () => closeSync(fd),
  };
}

function readAt(fd: number, size: number, offset: number, length: number): Buffer {
  const out = Buffer.allocUnsafe(Math.max(0, Math.min(length, size - offset)));
  const done = readFullyAt(fd, size, out, offset);
  return done === out.length ? out : out.subarray(0, done);
}

/** Up to `target.length` bytes of a file of `size` bytes at `offset`; returns how many. */
export function readFullyAt(fd: number, size: number, target: Buffer, offset: number): number {
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
    readInto: (target, offset) => withFd((fd) => readFullyAt(fd, size, target, offset)),
    close: () => {},
  };
}

/** No bytes at all: the content of an empty file. */
export const EMPTY_SOURCE: ByteSource = bufferSource(Buffer.alloc(0));

/**
 * Several ranges of another source, one after the other, as one source: a file stored in
 * runs (FAT clusters, ISO extents). Closing it leaves the other open.
 */
export const rangesSource = (src: ByteSource, ranges: readonly { offset: number; length: number }[]): ByteSource =>
  ranges.length === 1
    ? sliceSource(src, ranges[0]!.offset, ranges[0]!.length)
    : concatSource(ranges.map((r) => sliceSource(src, r.offset, r.length)));

/** Sources one after the other as one source (an image made of headers, files and padding). */
export function concatSource(parts: readonly ByteSource[]): ByteSource {
  const starts: number[] = [];
  let size = 0;
  for (const p of parts) {
    starts.push(size);
    size += p.size;
  }
  const into = (target: Buffer, offset: number): number => {
    let done = 0;
    let i = Math.max(0, upperBound(starts, offset) - 1);
    while (done < target.length && i < parts.length) {
      const p = parts[i]!;
      const within = offset + done - starts[i]!;
      const k = Math.min(target.length - done, p.size - within);
      const got = k > 0 ? readInto(p, target.subarray(done, done + k), within) : 0;
      done += got;
      if (got < k) break;
      i++;
    }
    return done;
  };
  return {
    size,
    read(offset, length) {
      const out = Buffer.allocUnsafe(Math.max(0, Math.min(length, size - offset)));
      const n = into(out, offset);
      return n === out.length ? out : out.subarray(0, n);
    },
    readInto: (target, offset) => into(target.subarray(0, Math.max(0, Math.min(target.length, size - offset))), offset),
    close: () => {},
  };
}

/** `size` zero bytes, never allocated whole. */
export function zeroSource(size: number): ByteSource {
  const n = (length: number, offset: number) => Math.max(0, Math.min(length, size - offset));
  return {
    size,
    read: (offset, length) => Buffer.alloc(n(length, offset)),
    readInto: (target, offset) => target.fill(0, 0, n(target.length, offset)) && n(target.length, offset),
    close: () => {},
  };
}

/**
 * A source of a known size opened on its first read (a file's content inside an image being
 * written); `open` must give exactly `size` bytes, else the read fails with `mismatch`.
 */
export function deferredSource(size: number, open: () => ByteSource, mismatch: (got: number) => Error): ByteSource {
  let src: ByteSource | undefined;
  const opened = () => {
    if (!src) {
      src = open();
      if (src.size !== size) throw mismatch(src.size);
    }
    return src;
  };
  return {
    size,
    read: (offset, length) => opened().read(offset, length),
    readInto: (target, offset) => readInto(opened(), target, offset),
    close: () => src?.close(),
  };
}

/** The number of `sorted` values at or below `x`. */
function upperBound(sorted: readonly number[], x: number): number {
  let [lo, hi] = [0, sorted.length];
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

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

/**
 * The whole source as chunks of at most 1 MiB, read into `scratch` when given (borrowed: each
 * is overwritten by the next, so only for a consumer done with a chunk before it asks for
 * the next), else into fresh buffers. Yields to the event loop every 64 MiB, so that signals
 * and timers run while a large source streams.
 */
export async function* sourceChunks(src: ByteSource, scratch?: Buffer): AsyncGenerator<Buffer> {
  let sinceYield = 0;
  for (let at = 0; at < src.size;) {
    const want = Math.min(src.pieceSize ?? PIECE, PIECE, src.size - at);
    const piece =
      scratch && !src.pieceSize
        ? scratch.subarray(0, readInto(src, scratch.subarray(0, Math.min(scratch.length, want)), at))
        : src.read(at, want);
    if (piece.length === 0) return;
    yield piece;
    at += piece.length;
    sinceYield += piece.length;
    if (sinceYield >= YIELD_EVERY) {
      sinceYield = 0;
      await new Promise((r) => setImmediate(r));
    }
  }
}

const PIECE = 1 << 20;
const YIELD_EVERY = 64 << 20;

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
