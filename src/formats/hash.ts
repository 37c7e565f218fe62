// sha256 of random-access bytes, read in 1 MiB pieces into one reused buffer.
import { createHash } from "node:crypto";
import { borrowedPieces, type ByteSource } from "./byte-source.js";

export async function hashSource(src: ByteSource, algorithm = "sha256"): Promise<string> {
  const h = createHash(algorithm);
  let seen = 0;
  for (const piece of borrowedPieces(src, Buffer.allocUnsafe(Math.min(1 << 20, src.size)))) {
    h.update(piece);
    seen += piece.length;
    if (seen % (64 << 20) === 0) await new Promise((r) => setImmediate(r)); // let timers and signals run
  }
  return h.digest("hex");
}
