// zlib-wrapped deflate for squashfs blocks, by libdeflate (compiled to WebAssembly): on the
// blocks of 111 MiB of /usr/lib it makes 3% fewer bytes than zlib -9 (what mksquashfs and
// node:zlib use) in about 60% of the time, and its output depends only on the input and the
// level. The main thread compresses small images and metadata itself; the data blocks of a
// large one go to worker threads, each with its own copy of the module.
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { zlib as libdeflateZlib } from "libdeflate";

/** libdeflate's default level: 12, its slowest, saves another 1% in 5 times the time. */
const LEVEL = 6;

export const deflateBlock = (b: Buffer): Buffer => {
  const packed = libdeflateZlib(b, LEVEL);
  return Buffer.from(packed.buffer, packed.byteOffset, packed.byteLength);
};

export interface DeflatePool {
  deflate(b: Buffer): Promise<Buffer>;
  close(): Promise<void>;
}

// Plain JavaScript, so the same worker runs from dist/ and under vitest; it loads the module
// once and answers each block with its compressed bytes, in the order asked.
const WORKER = `
const { parentPort, workerData } = require("node:worker_threads");
import(workerData.module).then(({ zlib }) => {
  parentPort.on("message", ({ id, block }) => {
    const packed = zlib(block, workerData.level);
    parentPort.postMessage({ id, packed }, [packed.buffer]);
  });
});
`;

const libdeflateUrl = (): string => pathToFileURL(createRequire(import.meta.url).resolve("libdeflate")).href;

/** `threads` workers, each block to the one with the fewest waiting. */
export function deflatePool(threads: number): DeflatePool {
  const waiting = new Map<number, { resolve: (b: Buffer) => void; reject: (e: Error) => void }>();
  const load: number[] = [];
  let next = 0;
  let failed: Error | undefined;
  const workers = Array.from({ length: threads }, (_, i) => {
    const w = new Worker(WORKER, { eval: true, workerData: { module: libdeflateUrl(), level: LEVEL } });
    load.push(0);
    w.on("message", ({ id, packed }: { id: number; packed: Uint8Array }) => {
      load[i]!--;
      const p = waiting.get(id);
      waiting.delete(id);
      p?.resolve(Buffer.from(packed.buffer, packed.byteOffset, packed.byteLength));
    });
    w.on("error", (e) => {
      failed = e;
      for (const p of waiting.values()) p.reject(e);
      waiting.clear();
    });
    return w;
  });
  return {
    deflate: (b) =>
      new Promise((resolve, reject) => {
        if (failed) return reject(failed);
        const id = next++;
        waiting.set(id, { resolve, reject });
        const i = load.indexOf(Math.min(...load));
        load[i]!++;
        // A copy of its own to hand over: the caller's buffer is reused once this settles.
        const block = new Uint8Array(b);
        workers[i]!.postMessage({ id, block }, [block.buffer]);
      }),
    close: async () => {
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}
