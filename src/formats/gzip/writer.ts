// Deterministic gzip writer, streaming and parallel (pigz's method). The input is cut into
// fixed 128 KiB blocks, each deflated with the previous 32 KiB as dictionary and ended with a
// sync flush; the pieces form ONE member with the CRC-32 and length of the whole input.
// Blocks are compressed on libuv's thread pool (zlib's async API: no JS isolate per thread,
// which cost ~50 MB each as worker threads) over a bounded window, so memory stays at a few
// blocks per thread whatever the input's size. Block and dictionary buffers are reused once
// their deflate is done: a fresh 128 KiB per block lived long enough to reach V8's old space,
// where a 200 MiB input left ~60 MiB of dead buffers waiting for a full GC. The blocking
// never depends on the thread count: 1 or N threads give the same bytes.
import { availableParallelism } from "node:os";
import { constants, crc32, deflateRaw, deflateRawSync } from "node:zlib";
import { giveBuffer, takeBuffer } from "../../io/buffer-pool.js";
import { isCompressed } from "./by-content.js";
import { memberHeader, memberTrailer, xflOf } from "./member.js";

export const CHUNK = 128 * 1024;
const WINDOW = 32 * 1024;

/**
 * The default level. Node's zlib (Chromium's) writes at level 8 within 0.1% of level 9's
 * size in 45-80% of its time (the 4.4 initrd, 4.8 MB: 2,275,788 vs 2,274,813 B, 268 vs
 * 338 ms; `npm run bench -- formats`, 54 MB of /usr/lib on 2 threads: +0.04%, 1.7 vs 3.6 s):
 * level 9's longer match chains buy almost nothing there.
 */
const DEFAULT_LEVEL = 8;

export interface GzipOptions {
  /** 1 (fast) to 9 (small); default DEFAULT_LEVEL. */
  level?: number;
  /** Blocks compressed at once on the thread pool; 1 compresses on the calling thread. Default 1. */
  threads?: number;
  /**
   * Compress by content: a block made mostly of already-compressed parts of the input
   * (.tcz, .gz, .gem payloads, judged part by part) is stored, the rest uses `level`.
   */
  byContent?: boolean;
}

export const defaultThreads = (): number => Math.max(1, Math.min(availableParallelism(), 8));

/** mtime 0, XFL by level as gzip(1) sets it, OS 3 (Unix) whatever the host: reproducible. */
const gzipHeader = (level: number): Buffer => memberHeader(xflOf(level));

function checkLevel(level: number): void {
  if (!Number.isInteger(level) || level < 1 || level > 9) throw new RangeError(`gzip level must be 1..9, got ${level}`);
}

interface Block {
  data: Buffer;
  /** The 32 KiB of input before the block (empty for the first). */
  dictionary: Buffer;
  level: number;
  last: boolean;
  /** Pooled buffers behind data and dictionary, given back when the block is compressed. */
  pooled?: Buffer[];
}

/** One block's raw deflate on the calling thread (threads: 1, and gzipSync). */
function deflateBlock(b: Block): Buffer {
  return deflateRawSync(b.data, {
    level: b.level,
    finishFlush: b.last ? constants.Z_FINISH : constants.Z_SYNC_FLUSH,
    ...(b.dictionary.length ? { dictionary: b.dictionary } : {}),
  });
}

/** One block's raw deflate on libuv's thread pool: parallel without a JS isolate per thread. */
function deflateBlockAsync(b: Block): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    deflateRaw(
      b.data,
      {
        level: b.level,
        finishFlush: b.last ? constants.Z_FINISH : constants.Z_SYNC_FLUSH,
        ...(b.dictionary.length ? { dictionary: b.dictionary } : {}),
      },
      (err, out) => (err ? reject(err) : resolve(out)),
    ),
  );
}

/** The gzip stream of `input`, produced as the input arrives, in bounded memory. */
export async function* gzipStream(
  input: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  opts: GzipOptions = {},
): AsyncGenerator<Buffer> {
  const level = opts.level ?? DEFAULT_LEVEL;
  checkLevel(level);
  const threads = opts.threads ?? 1;
  const inFlight: Promise<Buffer>[] = [];
  // A block's pooled buffers go back once its deflate is done (zlib has copied out by then).
  const release = (b: Block) => b.pooled?.forEach(giveBuffer);
  const deflate = (b: Block) =>
    inFlight.push(
      threads > 1
        ? deflateBlockAsync(b).finally(() => release(b))
        : Promise.resolve(deflateBlock(b)).finally(() => release(b)),
    );
  try {
    yield gzipHeader(level);
    let crc = 0;
    let total = 0;
    let block = takeBuffer(CHUNK);
    let fill = 0;
    let packed = 0; // bytes of the current block from already-compressed parts
    let dictionary: Buffer = Buffer.alloc(0);
    const owned = (d: Buffer) => (d.length === WINDOW ? [d] : []); // the first block's empty one is not pooled
    let held: Block | undefined; // complete, but it may yet turn out to be the last
    const levelOf = (bytes: number) => (opts.byContent && packed * 2 >= bytes ? 0 : level);
    for await (const raw of input) {
      const part = Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
      if (!part.length) continue;
      crc = crc32(part, crc);
      total += part.length;
      const compressedPart = opts.byContent === true && isCompressed(part);
      for (let off = 0; off < part.length;) {
        const n = Math.min(CHUNK - fill, part.length - off);
        part.copy(block, fill, off, off + n);
        fill += n;
        off += n;
        if (compressedPart) packed += n;
        if (fill < CHUNK) continue;
        if (held) deflate(held);
        held = { data: block, dictionary, level: levelOf(CHUNK), last: false, pooled: [block, ...owned(dictionary)] };
        dictionary = takeBuffer(WINDOW);
        block.copy(dictionary, 0, CHUNK - WINDOW);
        [block, fill, packed] = [takeBuffer(CHUNK), 0, 0];
        while (inFlight.length > threads * 4) yield await inFlight.shift()!;
      }
    }
    if (fill > 0) {
      if (held) deflate(held);
      held = {
        data: block.subarray(0, fill),
        dictionary,
        level: levelOf(fill),
        last: false,
        pooled: [block, ...owned(dictionary)],
      };
    } else {
      // The block and dictionary taken for data that never came.
      giveBuffer(block);
      owned(dictionary).forEach(giveBuffer);
    }
    deflate(held ? { ...held, last: true } : { data: Buffer.alloc(0), dictionary: Buffer.alloc(0), level, last: true });
    while (inFlight.length) yield await inFlight.shift()!;
    yield memberTrailer(crc, total);
  } finally {
    await Promise.allSettled(inFlight);
  }
}

/** The whole gzip of `input` in memory (for small inputs and tests). */
export async function gzip(input: Uint8Array | readonly Uint8Array[], opts: GzipOptions = {}): Promise<Buffer> {
  const parts: readonly Uint8Array[] = input instanceof Uint8Array ? [input] : input;
  const out: Buffer[] = [];
  for await (const c of gzipStream(parts, opts)) out.push(c);
  return Buffer.concat(out);
}

export function gzipSync(input: Uint8Array, opts: Omit<GzipOptions, "threads"> = {}): Buffer {
  const level = opts.level ?? DEFAULT_LEVEL;
  checkLevel(level);
  const data = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  const out = [gzipHeader(level)];
  for (let start = 0; start === 0 || start < data.length; start += CHUNK) {
    const end = Math.min(start + CHUNK, data.length);
    out.push(
      deflateBlock({
        data: data.subarray(start, end),
        dictionary: data.subarray(Math.max(0, start - WINDOW), start),
        level,
        last: end >= data.length,
      }),
    );
  }
  return Buffer.concat([...out, memberTrailer(crc32(data), data.length)]);
}
