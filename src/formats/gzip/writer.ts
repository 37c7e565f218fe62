// Deterministic gzip writer. The input is cut into fixed chunks, each deflated with the
// previous 32 KiB as dictionary and ended with a sync flush (pigz's method), and the
// pieces form ONE member with the CRC-32 and length of the whole input. The chunking
// never depends on the thread count, so 1 or N threads give the same bytes.
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { constants, crc32, deflateRawSync } from "node:zlib";

export const CHUNK = 128 * 1024;
const WINDOW = 32 * 1024;

export interface GzipOptions {
  /** 1 (fast) to 9 (small); default 9. */
  level?: number;
  /** Worker threads; 1 compresses on the calling thread. Default 1. */
  threads?: number;
  /** Level for the chunk [start, end) of the input, 0 (stored) to 9: compress by content (still one member). */
  levelFor?: (start: number, end: number) => number;
}

export const defaultThreads = (): number => Math.max(1, Math.min(availableParallelism(), 8));

function gzipHeader(level: number): Buffer {
  // mtime 0, XFL by level as gzip(1) sets it, OS 3 (Unix) whatever the host: reproducible.
  return Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, level === 9 ? 2 : level === 1 ? 4 : 0, 3]);
}

function trailer(input: Uint8Array): Buffer {
  const t = Buffer.alloc(8);
  t.writeUInt32LE(crc32(input) >>> 0, 0);
  t.writeUInt32LE(input.length % 2 ** 32, 4);
  return t;
}

function checkLevel(level: number): void {
  if (!Number.isInteger(level) || level < 1 || level > 9) throw new RangeError(`gzip level must be 1..9, got ${level}`);
}

/** One chunk's raw deflate: what both the in-thread path and the workers run. */
function deflateChunk(input: Uint8Array, start: number, end: number, level: number): Buffer {
  const last = end >= input.length;
  const dictStart = Math.max(0, start - WINDOW);
  return deflateRawSync(input.subarray(start, end), {
    level,
    finishFlush: last ? constants.Z_FINISH : constants.Z_SYNC_FLUSH,
    ...(start > 0 ? { dictionary: input.subarray(dictStart, start) } : {}),
  });
}

const chunkStarts = (length: number): number[] => {
  const starts = [0];
  for (let s = CHUNK; s < length; s += CHUNK) starts.push(s);
  return starts;
};

export function gzipSync(input: Uint8Array, opts: GzipOptions = {}): Buffer {
  const level = opts.level ?? 9;
  checkLevel(level);
  const parts = chunkStarts(input.length).map((s) => {
    const end = Math.min(s + CHUNK, input.length);
    return deflateChunk(input, s, end, opts.levelFor?.(s, end) ?? level);
  });
  return Buffer.concat([gzipHeader(level), ...parts, trailer(input)]);
}

// Plain JS run by each worker (eval'd, so it works from src/ under tests and from dist/).
const WORKER_SOURCE = `
const { parentPort } = require("node:worker_threads");
const { constants, deflateRawSync } = require("node:zlib");
parentPort.on("message", ({ index, shared, length, start, end, level }) => {
  const input = new Uint8Array(shared, 0, length);
  const out = deflateRawSync(input.subarray(start, end), {
    level,
    finishFlush: end >= length ? constants.Z_FINISH : constants.Z_SYNC_FLUSH,
    ...(start > 0 ? { dictionary: input.subarray(Math.max(0, start - ${WINDOW}), start) } : {}),
  });
  // Transfer only this result's bytes, never a larger pooled backing store.
  const own = out.byteOffset === 0 && out.byteLength === out.buffer.byteLength ? out.buffer : out.buffer.slice(out.byteOffset, out.byteOffset + out.byteLength);
  parentPort.postMessage({ index, out: own }, [own]);
});
`;

/** Parallel gzip over worker threads; byte-identical to gzipSync for the same level. */
export async function gzip(input: Uint8Array | readonly Uint8Array[], opts: GzipOptions = {}): Promise<Buffer> {
  const level = opts.level ?? 9;
  checkLevel(level);
  const threads = opts.threads ?? 1;
  const parts: readonly Uint8Array[] = input instanceof Uint8Array ? [input] : input;
  const length = parts.reduce((n, b) => n + b.length, 0);
  const starts = chunkStarts(length);
  if (threads <= 1 || starts.length < 2)
    return gzipSync(parts.length === 1 ? parts[0]! : Buffer.concat(parts), {
      level,
      ...(opts.levelFor ? { levelFor: opts.levelFor } : {}),
    });

  // One copy of the input into shared memory; workers get offsets, not copies.
  const shared = new SharedArrayBuffer(length);
  const view = new Uint8Array(shared);
  let at = 0;
  for (const b of parts) {
    view.set(b, at);
    at += b.length;
  }

  const results = new Array<Buffer>(starts.length);
  const workers = Array.from(
    { length: Math.min(threads, starts.length) },
    () => new Worker(WORKER_SOURCE, { eval: true }),
  );
  try {
    let next = 0;
    await Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((resolve, reject) => {
            const send = () => {
              if (next >= starts.length) return resolve();
              const index = next++;
              const start = starts[index]!;
              const end = Math.min(start + CHUNK, length);
              w.postMessage({ index, shared, length, start, end, level: opts.levelFor?.(start, end) ?? level });
            };
            w.on("message", (m: { index: number; out: ArrayBuffer }) => {
              results[m.index] = Buffer.from(m.out);
              send();
            });
            w.once("error", reject);
            send();
          }),
      ),
    );
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return Buffer.concat([gzipHeader(level), ...results, trailer(view)]);
}
