// sha256 of random-access bytes, read in 1 MiB pieces into one reused buffer.
import { createHash } from "node:crypto";
import { readInto, type ByteSource } from "./byte-source.js";

export async function hashSource(src: ByteSource, algorithm = "sha256"): Promise<string> {
  const h = createHash(algorithm);
  const piece = Buffer.allocUnsafe(Math.min(1 << 20, src.size));
  for (let at = 0; at < src.size; at += 1 << 20) {
    const n = readInto(src, piece.subarray(0, Math.min(1 << 20, src.size - at)), at);
    h.update(piece.subarray(0, n));
    if (at % (64 << 20) === 0) await new Promise((r) => setImmediate(r)); // let timers and signals run
  }
  return h.digest("hex");
}
