// The crc format's (070702) checksum: the sum of a file's bytes, mod 2^32. Checked as the
// data is read, never by reading it up front: listing an archive reads no data (as `cpio -t`),
// and every byte handed out of a member has been counted towards the sum that is compared
// when the last byte is read.
import { FormatError } from "../../errors.js";
import type { ByteSource } from "../../io/byte-source.js";
import { printable } from "../../tree/entry.js";

/**
 * The sum of `b`'s bytes, mod 2^32: four at a time in two 16-bit lanes of each aligned
 * 32-bit word, folded before a lane can overflow; the unaligned ends a byte at a time.
 */
export function byteSum(b: Buffer): number {
  const head = Math.min(b.length, (4 - (b.byteOffset & 3)) & 3);
  const words = new Uint32Array(b.buffer, b.byteOffset + head, (b.length - head) >>> 2);
  let sum = 0;
  for (let i = 0; i < head; i++) sum += b[i]!;
  for (let i = 0; i < words.length;) {
    let even = 0;
    let odd = 0;
    for (const end = Math.min(words.length, i + 256); i < end; i++) {
      const w = words[i]!;
      even += w & 0x00ff00ff;
      odd += (w >>> 8) & 0x00ff00ff;
    }
    sum += (even & 0xffff) + (even >>> 16) + (odd & 0xffff) + (odd >>> 16);
  }
  for (let i = head + words.length * 4; i < b.length; i++) sum += b[i]!;
  return sum % 2 ** 32;
}

const PIECE = 1024 * 1024;

/**
 * `open()`'s bytes, summed as they are read in order; a read that skips ahead sums the bytes
 * skipped first. When the sum is complete and differs from `expected`, the read that
 * completed it fails, naming the file. Once a member has checked out, later opens skip the sum.
 */
export function checkedContent(
  open: () => ByteSource,
  expected: number,
  name: string,
  offset: number,
): () => ByteSource {
  let verified = false;
  return () => {
    const src = open();
    if (verified) return src;
    let next = 0;
    let sum = 0;
    const count = (b: Buffer) => {
      sum = (sum + byteSum(b)) % 2 ** 32;
      next += b.length;
      if (next < src.size) return;
      if (sum !== expected)
        throw new FormatError(
          "cpio",
          `checksum mismatch for '${printable(name)}' at offset ${offset}: header ${expected}, data ${sum}`,
        );
      verified = true;
    };
    /** Before bytes at `at` are handed out: every byte up to them counted. */
    const catchUp = (at: number) => {
      while (!verified && next < Math.min(at, src.size)) count(src.read(next, Math.min(PIECE, at - next)));
    };
    if (src.size === 0) count(Buffer.alloc(0));
    return {
      size: src.size,
      ...(src.pieceSize ? { pieceSize: src.pieceSize } : {}),
      read(at, length) {
        catchUp(at);
        const b = src.read(at, length);
        if (!verified && at === next && b.length) count(b);
        return b;
      },
      readInto(target, at) {
        catchUp(at);
        const got = src.readInto ? src.readInto(target, at) : src.read(at, target.length).copy(target);
        if (!verified && at === next && got) count(target.subarray(0, got));
        return got;
      },
      close: () => src.close(),
    };
  };
}
