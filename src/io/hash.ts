// sha256 of random-access bytes and of files, read in 1 MiB pieces into one reused buffer.
import { createHash } from "node:crypto";
import { open } from "node:fs/promises";
import { giveBuffer, takeBuffer } from "./buffer-pool.js";
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

/**
 * sha256, md5 and size of a file, read in 1 MiB pieces into one reused buffer (a stream's
 * fresh buffer per read left large files' worth of dead buffers for V8 to collect late).
 */
export async function hashFile(path: string): Promise<{ sha256: string; md5: string; size: number }> {
  const sha = createHash("sha256");
  const md5 = createHash("md5");
  let size = 0;
  const fh = await open(path, "r");
  const piece = takeBuffer(1 << 20);
  try {
    for (;;) {
      const { bytesRead } = await fh.read(piece, 0, piece.length, null);
      if (bytesRead === 0) break;
      sha.update(piece.subarray(0, bytesRead));
      md5.update(piece.subarray(0, bytesRead));
      size += bytesRead;
    }
  } finally {
    giveBuffer(piece);
    await fh.close();
  }
  return { sha256: sha.digest("hex"), md5: md5.digest("hex"), size };
}
