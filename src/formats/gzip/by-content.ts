// Compression by content: which parts of an archive are already compressed (.tcz, .gem,
// .gz payloads), so that the gzip writer stores their blocks instead of deflating them again.
import { deflateRawSync } from "node:zlib";

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
 * Known magic, or (for large parts without one, such as .gem tars of .gz members or the
 * middle of a .tcz) five windows spread over the part that deflate cannot shrink: one
 * window would call a mixed file (a debug file with compressed sections, an .a archive)
 * compressed and lose size.
 */
export function isCompressed(b: Buffer): boolean {
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
