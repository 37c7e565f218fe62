// squashfs 4.0 reader over an in-memory image: lists every entry and reads file data.
// Guards: every offset is checked against the image, directories cannot loop, names
// cannot escape, and decompression never exceeds the block size.
import { Readable } from "node:stream";
import { FormatError, printable, type Entry } from "../../tree/entry.js";
import { decompressBlock } from "./compression.js";
import { readInode, NO_FRAGMENT, type Inode } from "./inode.js";
import { MetadataReader, readLookupTable } from "./metadata.js";
import { FLAG_COMPRESSOR_OPTIONS, readSuperblock, type Superblock } from "./superblock.js";

export { isSquashfs } from "./superblock.js";

const UNCOMPRESSED_BLOCK = 1 << 24;
const MAX_DEPTH = 256;
/** Largest file we will materialise; larger (or hostile sparse) sizes are refused when read. */
export const MAX_FILE_READ = 2 ** 31 - 1;

/** Entries carry their data lazily: decompressed when opened, so listing reads no file data. */
export interface SquashfsImage {
  superblock: Superblock;
  entries: Entry[];
}

export function readSquashfs(image: Buffer): SquashfsImage {
  const sb = readSuperblock(image);
  if (sb.flags & FLAG_COMPRESSOR_OPTIONS && sb.compression !== 1) throw new FormatError("squashfs", `unsupported compressor ${sb.compression}`);
  const end = Math.min(image.length, sb.bytesUsed);
  const inodes = new MetadataReader(image, sb.compression, sb.directoryTableStart);
  const dirs = new MetadataReader(image, sb.compression, end);
  const tables = new MetadataReader(image, sb.compression, end);
  const ids = readLookupTable(image, tables, sb.idTableStart, sb.idCount, 4, "id");
  const idOf = (i: number, what: string): number => {
    if (i >= sb.idCount) throw new FormatError("squashfs", `${what} index ${i} is outside the id table (${sb.idCount} ids)`);
    return ids.readUInt32LE(i * 4);
  };
  const fragments = sb.fragmentCount > 0 && sb.fragmentTableStart >= 0 ? readLookupTable(image, tables, sb.fragmentTableStart, sb.fragmentCount, 16, "fragment") : Buffer.alloc(0);

  const inodeAt = (ref: bigint): Inode => {
    const block = Number(ref >> 16n);
    const offset = Number(ref & 0xffffn);
    if (sb.inodeTableStart + block >= sb.directoryTableStart) throw new FormatError("squashfs", `inode reference ${ref} points outside the inode table`);
    return readInode(inodes.cursor(sb.inodeTableStart + block, offset), sb.blockSize, image.length);
  };

  const fileData = (ino: Inode, path: string): Buffer => {
    const size = ino.fileSize!;
    if (size > MAX_FILE_READ) throw new FormatError("squashfs", `'${printable(path)}' is ${size} bytes, more than ${MAX_FILE_READ} can be read into memory`);
    const out = Buffer.alloc(size);
    let pos = ino.blocksStart!;
    let filled = 0;
    for (const [i, word] of ino.blockSizes!.entries()) {
      const want = Math.min(sb.blockSize, size - filled);
      const onDisk = word & ~UNCOMPRESSED_BLOCK;
      if (onDisk === 0) {
        filled += want; // sparse block: zeros
        continue;
      }
      if (onDisk > sb.blockSize || pos + onDisk > end) throw new FormatError("squashfs", `'${printable(path)}': data block ${i} (${onDisk} bytes at ${pos}) is out of range`);
      const raw = image.subarray(pos, pos + onDisk);
      const block = word & UNCOMPRESSED_BLOCK ? raw : decompressBlock(sb.compression, raw, sb.blockSize, `'${printable(path)}' block ${i}`);
      if (block.length < want) throw new FormatError("squashfs", `'${printable(path)}': block ${i} holds ${block.length} bytes, expected ${want}`);
      block.copy(out, filled, 0, want);
      filled += want;
      pos += onDisk;
    }
    if (filled < size) {
      if (ino.fragment === NO_FRAGMENT) throw new FormatError("squashfs", `'${printable(path)}': ${size - filled} bytes missing and no fragment`);
      const frag = fragmentBlock(ino.fragment!, path);
      const off = ino.fragmentOffset!;
      if (off + (size - filled) > frag.length) throw new FormatError("squashfs", `'${printable(path)}': fragment ${ino.fragment} is too short`);
      frag.copy(out, filled, off, off + (size - filled));
    }
    return out;
  };

  const fragmentCache = new Map<number, Buffer>();
  const fragmentBlock = (index: number, path: string): Buffer => {
    let f = fragmentCache.get(index);
    if (f) return f;
    if (index >= sb.fragmentCount) throw new FormatError("squashfs", `'${printable(path)}': fragment ${index} does not exist (${sb.fragmentCount} fragments)`);
    const start = Number(fragments.readBigUInt64LE(index * 16));
    const word = fragments.readUInt32LE(index * 16 + 8);
    const onDisk = word & ~UNCOMPRESSED_BLOCK;
    if (onDisk > sb.blockSize || start + onDisk > end) throw new FormatError("squashfs", `fragment ${index} is out of range`);
    const raw = image.subarray(start, start + onDisk);
    f = word & UNCOMPRESSED_BLOCK ? raw : decompressBlock(sb.compression, raw, sb.blockSize, `fragment ${index}`);
    fragmentCache.set(index, f);
    return f;
  };

  const entries: Entry[] = [];
  const firstPathOfInode = new Map<number, string>();
  let budget = Math.max(sb.inodeCount, 1) * 2 + 16; // entries seen; hard links reuse inodes

  const walk = (dir: Inode, prefix: string, ancestors: Set<string>, depth: number) => {
    if (depth > MAX_DEPTH) throw new FormatError("squashfs", `directories nest deeper than ${MAX_DEPTH} at '${printable(prefix)}'`);
    let left = dir.dirSize! - 3; // the listing size counts '.' and '..' as 3 bytes
    if (left <= 0) return; // empty: no listing (empty directories may share a position)
    const key = `${dir.dirBlock}:${dir.dirOffset}`;
    if (ancestors.has(key)) throw new FormatError("squashfs", `directory loop at '${printable(prefix)}'`);
    const inner = new Set(ancestors).add(key);
    const c = dirs.cursor(sb.directoryTableStart + dir.dirBlock!, dir.dirOffset!);
    while (left > 0) {
      if (left < 12) throw new FormatError("squashfs", `directory '${printable(prefix)}' listing is malformed`);
      const h = c.take(12);
      left -= 12;
      const count = h.readUInt32LE(0) + 1;
      const start = h.readUInt32LE(4);
      const base = h.readUInt32LE(8);
      if (count > 256) throw new FormatError("squashfs", `directory header in '${printable(prefix)}' claims ${count} entries (at most 256)`);
      for (let i = 0; i < count; i++) {
        const e = c.take(8);
        const nameSize = e.readUInt16LE(6) + 1;
        const name = c.take(nameSize).toString("utf8");
        left -= 8 + nameSize;
        if (left < 0) throw new FormatError("squashfs", `directory '${printable(prefix)}' listing overruns its size`);
        if (name === "." || name === ".." || name.includes("/") || name.includes("\0")) throw new FormatError("squashfs", `invalid name '${printable(name)}' in '${printable(prefix)}'`);
        if (--budget < 0) throw new FormatError("squashfs", "more directory entries than the image has inodes");
        const ref = (BigInt(start) << 16n) | BigInt(e.readUInt16LE(0));
        const ino = inodeAt(ref);
        const expected = (base + e.readInt16LE(2)) >>> 0;
        if (ino.number !== expected) throw new FormatError("squashfs", `'${printable(name)}' in '${printable(prefix)}': inode number ${ino.number}, directory says ${expected}`);
        const path = prefix ? `${prefix}/${name}` : name;
        const entry: Entry = { path, type: ino.type, mode: ino.mode, uid: idOf(ino.uidIndex, "uid"), gid: idOf(ino.gidIndex, "gid"), mtime: ino.mtime, size: 0 };
        const linked = ino.type !== "dir" ? firstPathOfInode.get(ino.number) : undefined;
        if (linked !== undefined) {
          entries.push({ ...entry, type: "hardlink", linkTarget: linked });
          continue;
        }
        if (ino.type !== "dir") firstPathOfInode.set(ino.number, path);
        if (ino.type === "file") {
          entry.size = ino.fileSize!;
          entry.data = () => Readable.from([fileData(ino, path)]);
        } else if (ino.type === "symlink") entry.linkTarget = ino.target!;
        else if (ino.type === "char" || ino.type === "block") [entry.rdevMajor, entry.rdevMinor] = [ino.rdevMajor!, ino.rdevMinor!];
        entries.push(entry);
        if (ino.type === "dir") walk(ino, path, inner, depth + 1);
      }
    }
  };

  const root = inodeAt(sb.rootInodeRef);
  if (root.type !== "dir") throw new FormatError("squashfs", "the root inode is not a directory");
  entries.push({ path: "", type: "dir", mode: root.mode, uid: idOf(root.uidIndex, "uid"), gid: idOf(root.gidIndex, "gid"), mtime: root.mtime, size: 0 });
  walk(root, "", new Set(), 0);
  return { superblock: sb, entries };
}
