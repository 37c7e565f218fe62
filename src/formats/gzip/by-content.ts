// gzip by content: chunks that are mostly already-compressed data are stored, the rest
// compressed at level 9 -- still one member, byte-identical for any thread count.
import { deflateRawSync } from "node:zlib";
import { defaultThreads, gzip } from "./writer.js";

/** Magic numbers of compressed data: gzip, squashfs, xz, bzip2, zstd, zip. */
const COMPRESSED = [
  Buffer.from([0x1f, 0x8b]),
  Buffer.from("hsqs"),
  Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a]),
  Buffer.from("BZh"),
  Buffer.from([0x28, 0xb5, 0x2f, 0xfd]),
  Buffer.from("PK\x03\x04"),
];
/**
 * Known magic, or (for large parts without one, such as .gem tars of .gz members) five
 * windows spread over the part that deflate cannot shrink: one window would call a mixed
 * file (a debug file with compressed sections, an .a archive) compressed and lose size.
 */
function isCompressed(b: Buffer): boolean {
  if (b.length < 512) return false;
  if (COMPRESSED.some((m) => b.subarray(0, m.length).equals(m))) return true;
  if (b.length < 64 * 1024) return false;
  const size = 8192;
  return [1, 3, 5, 7, 9].every((k) => {
    const at = Math.floor((b.length * k) / 10);
    const w = b.subarray(at, at + size);
    return deflateRawSync(w, { level: 1 }).length > w.length * 0.95;
  });
}

/** One gzip member of `input`, chunks that are mostly already-compressed parts stored, the rest at 9. */
export async function gzipByContent(
  input: AsyncIterable<Buffer> | Iterable<Buffer>,
  threads = defaultThreads(),
): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const p of input) parts.push(p);
  // Byte ranges that hold already-compressed file data.
  const packed: [number, number][] = [];
  let at = 0;
  for (const p of parts) {
    if (isCompressed(p)) packed.push([at, at + p.length]);
    at += p.length;
  }
  const level = (start: number, end: number) => {
    let inside = 0;
    for (const [a, b] of packed) inside += Math.max(0, Math.min(b, end) - Math.max(a, start));
    return inside * 2 >= end - start ? 0 : 9;
  };
  return gzip(parts, { threads, levelFor: level });
}
