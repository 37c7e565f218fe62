// sha256 of random-access bytes, read in 1 MiB pieces.
import { createHash } from "node:crypto";
import type { ByteSource } from "./byte-source.js";

export async function hashSource(src: ByteSource, algorithm = "sha256"): Promise<string> {
  const h = createHash(algorithm);
  for (let at = 0; at < src.size; at += 1 << 20) {
    h.update(src.read(at, Math.min(1 << 20, src.size - at)));
    if (at % (64 << 20) === 0) await new Promise((r) => setImmediate(r)); // let timers and signals run
  }
  return h.digest("hex");
}
