// sha256 of random-access bytes, read in 1 MiB pieces into one reused buffer.
import { createHash } from "node:crypto";
import { borrowedPieces, type ByteSource } from "./byte-source.js";

export async function hashSource(src: ByteSource, algorithm = "sha256"): Promise<string> {
  const h = createHash(algorithm);
  let sinceYield = 0;
  for (const piece of borrowedPieces(src, Buffer.allocUnsafe(Math.min(1 << 20, src.size)))) {
    h.update(piece);
    sinceYield += piece.length;
    if (sinceYield < 64 << 20) continue;
    sinceYield = 0;
    await new Promise((r) => setImmediate(r)); // every 64 MiB, let timers and signals run
  }
  return h.digest("hex");
}
