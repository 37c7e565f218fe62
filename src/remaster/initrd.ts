// The initrd of a remaster: every archive of the base's initrd merged with the overlay into
// ONE newc cpio (full mode), or the overlay alone as a second archive that carries no
// entries for directories the base already has (--append-initrd). Compressed by content:
// chunks of already-compressed payloads (.tcz, .gem, .gz) at level 1, the rest at 9.
import { deflateRawSync } from "node:zlib";
import { writeCpio } from "../formats/cpio/writer.js";
import { CHUNK, defaultThreads, gzip } from "../formats/gzip/writer.js";
import type { Entry } from "../tree/entry.js";
import { mergeEntry, sorted, treeOf, type FileTree } from "../tree/file-tree.js";

/** Magic numbers of compressed data: gzip, squashfs, xz, bzip2, zstd, zip. */
const COMPRESSED = [Buffer.from([0x1f, 0x8b]), Buffer.from("hsqs"), Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a]), Buffer.from("BZh"), Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), Buffer.from("PK\x03\x04")];
/** Known magic, or (for large parts without one, such as .gem tars of .gz members) a sample that deflate cannot shrink. */
function isCompressed(b: Buffer): boolean {
  if (b.length < 512) return false;
  if (COMPRESSED.some((m) => b.subarray(0, m.length).equals(m))) return true;
  if (b.length < 64 * 1024) return false;
  const sample = b.subarray(b.length >> 1, (b.length >> 1) + 16384);
  return deflateRawSync(sample, { level: 1 }).length > sample.length * 0.9;
}

export function mergedInitrd(base: FileTree, overlay: readonly Entry[]): Entry[] {
  const t = treeOf(base.values());
  for (const e of overlay) mergeEntry(t, e);
  return sorted(t);
}

/** The overlay as a second archive: directories the base has are left out (their mode and owner stay the base's). */
export function appendArchiveEntries(base: FileTree, overlay: readonly Entry[]): Entry[] {
  return overlay.filter((e) => !(e.type === "dir" && base.get(e.path)?.type === "dir"));
}

export async function compressArchive(entries: readonly Entry[], threads = defaultThreads()): Promise<Buffer> {
  const parts = writeCpio(entries);
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
    return inside * 2 >= end - start ? 1 : 9;
  };
  return gzip(parts, { threads, levelFor: level });
}

export { CHUNK };
