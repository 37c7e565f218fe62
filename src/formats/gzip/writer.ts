// Deterministic gzip writer, streaming and parallel (pigz's method). The input is cut into
// fixed 128 KiB blocks, each deflated with the previous 32 KiB as dictionary and ended with a
// sync flush; the pieces form ONE member with the CRC-32 and length of the whole input.
// Blocks are compressed by a pool of worker threads over a bounded window, so memory stays
// at a few blocks per thread whatever the input's size. The blocking never depends on the
// thread count: 1 or N threads give the same bytes.
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { constants, crc32, deflateRawSync } from "node:zlib";
import { isCompressed } from "./by-content.js";

export const CHUNK = 128 * 1024;
const WINDOW = 32 * 1024;

export interface GzipOptions {
  /** 1 (fast) to 9 (small); default 9. */
  level?: number;
  /** Worker threads; 1 compresses on the calling thread. Default 1. */
  threads?: number;
  /**
   * Compress by content: a block made mostly of already-compressed parts of the input
   * (.tcz, .gz, .gem payloads, judged part by part) is stored, the rest uses `level`.
   */
  byContent?: boolean;
}

export const defaultThreads = (): number => Math.max(1, Math.min(availableParallelism(), 8));

function gzipHeader(level: number): Buffer {
  // mtime 0, XFL by level as gzip(1) sets it, OS 3 (Unix) whatever the host: reproducible.
  return Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, level === 9 ? 2 : level === 1 ? 4 : 0, 3]);
}

function checkLevel(level: number): void {
  if (!Number.isInteger(level) || level < 1 || level > 9) throw new RangeError(`gzip level must be 1..9, got ${level}`);
}

interface Block {
  data: Buffer;
  /** The 32 KiB of input before the block (empty for the first). */
  dictionary: Buffer;
  level: number;
  last: boolean;
}

/** One block's raw deflate: what both the in-thread path and the workers run. */
function deflateBlock(b: Block): Buffer {
  return deflateRawSync(b.data, {
    level: b.level,
    finishFlush: b.last ? constants.Z_FINISH : constants.Z_SYNC_FLUSH,
    ...(b.dictionary.length ? { dictionary: b.dictionary } : {}),
  });
}

// Plain JS run by each worker (eval'd, so it works from src/ under tests and from dist/).
const WORKER_SOURCE = `
const { parentPort } = require("node:worker_threads");
const { constants, deflateRawSync } = require("node:zlib");
parentPort.on("message", ({ id, data, dictionary, level, last }) => {
  const out = deflateRawSync(new Uint8Array(data), {
    level,
    finishFlush: last ? constants.Z_FINISH : constants.Z_SYNC_FLUSH,
    ...(dictionary.byteLength ? { dictionary: new Uint8Array(dictionary) } : {}),
  });
  // Transfer only this result's bytes, never a larger pooled backing store.
  const own = out.byteOffset === 0 && out.byteLength === out.buffer.byteLength ? out.buffer : out.buffer.slice(out.byteOffset, out.byteOffset + out.byteLength);
  parentPort.postMessage({ id, out: own }, [own]);
});
`;

/** Workers that deflate blocks; results come back by id. */
function workerPool(threads: number) {
  const waiting = new Map<number, { resolve: (b: Buffer) => void; reject: (e: Error) => void }>();
  const workers = Array.from({ length: threads }, () => {
    const w = new Worker(WORKER_SOURCE, { eval: true });
    w.on("message", (m: { id: number; out: ArrayBuffer }) => {
      waiting.get(m.id)?.resolve(Buffer.from(m.out));
      waiting.delete(m.id);
    });
    w.on("error", (e) => {
      for (const p of waiting.values()) p.reject(e);
      waiting.clear();
    });
    return w;
  });
  let next = 0;
  return {
    run(b: Block): Promise<Buffer> {
      const id = next++;
      const copy = (x: Buffer): ArrayBuffer => {
        const own = new ArrayBuffer(x.byteLength);
        new Uint8Array(own).set(x);
        return own;
      };
      const data = copy(b.data);
      const dictionary = copy(b.dictionary);
      return new Promise<Buffer>((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        workers[id % threads]!.postMessage({ id, data, dictionary, level: b.level, last: b.last }, [data, dictionary]);
      });
    },
    close: () => Promise.all(workers.map((w) => w.terminate())),
  };
}

/** The gzip stream of `input`, produced as the input arrives, in bounded memory. */
export async function* gzipStream(
  input: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  opts: GzipOptions = {},
): AsyncGenerator<Buffer> {
  const level = opts.level ?? 9;
  checkLevel(level);
  const threads = opts.threads ?? 1;
  const pool = threads > 1 ? workerPool(threads) : undefined;
  const inFlight: Promise<Buffer>[] = [];
  const deflate = (b: Block) => inFlight.push(pool ? pool.run(b) : Promise.resolve(deflateBlock(b)));
  try {
    yield gzipHeader(level);
    let crc = 0;
    let total = 0;
    let block = Buffer.allocUnsafe(CHUNK);
    let fill = 0;
    let packed = 0; // bytes of the current block from already-compressed parts
    let dictionary = Buffer.alloc(0);
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
        held = { data: block, dictionary, level: levelOf(CHUNK), last: false };
        dictionary = block.subarray(CHUNK - WINDOW);
        [block, fill, packed] = [Buffer.allocUnsafe(CHUNK), 0, 0];
        while (inFlight.length > threads * 4) yield await inFlight.shift()!;
      }
    }
    if (fill > 0) {
      if (held) deflate(held);
      held = { data: block.subarray(0, fill), dictionary, level: levelOf(fill), last: false };
    }
    deflate(held ? { ...held, last: true } : { data: Buffer.alloc(0), dictionary, level, last: true });
    while (inFlight.length) yield await inFlight.shift()!;
    const t = Buffer.alloc(8);
    t.writeUInt32LE(crc >>> 0, 0);
    t.writeUInt32LE(total % 2 ** 32, 4);
    yield t;
  } finally {
    await Promise.allSettled(inFlight);
    await pool?.close();
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
  const level = opts.level ?? 9;
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
  const t = Buffer.alloc(8);
  t.writeUInt32LE(crc32(data) >>> 0, 0);
  t.writeUInt32LE(data.length % 2 ** 32, 4);
  return Buffer.concat([...out, t]);
}
