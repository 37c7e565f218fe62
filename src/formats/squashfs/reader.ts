// squashfs 4.0 reader over random-access bytes: lists every entry and streams file data
// block by block when opened. Guards: every offset is checked against the image, each
// directory listing is expanded once (no loops, no shared-directory bombs), names cannot
// escape, decompression never exceeds the block size, and sparse blocks are produced as
// zeros on the fly rather than allocated.
import { FormatError } from "../../errors.js";
import { printable, type Entry } from "../../tree/entry.js";
import { bufferSource, type ByteSource } from "../../io/byte-source.js";
import { budgetOf, DEFAULT_LIMITS, type ReadLimits } from "../limits.js";
import { decompressBlock } from "./compression.js";
import { readInode, NO_FRAGMENT, type Inode } from "./inode.js";
import { MetadataReader, readLookupTable } from "./metadata.js";
import { FLAG_COMPRESSOR_OPTIONS, readSuperblock, SUPERBLOCK_SIZE } from "./superblock.js";

const UNCOMPRESSED_BLOCK = 1 << 24;
const MAX_DEPTH = 256;

/** The entries of a squashfs image, root first; file data is decompressed when opened. */
export async function* readSquashfs(
  input: Buffer | ByteSource,
  limits: ReadLimits = DEFAULT_LIMITS,
): AsyncGenerator<Entry> {
  yield* await squashfsEntries(Buffer.isBuffer(input) ? bufferSource(input) : input, limits);
}

async function squashfsEntries(image: ByteSource, limits: ReadLimits): Promise<Entry[]> {
  const budget = budgetOf(limits);
  const visit = (bytes: number, at: number) => budget.visit("squashfs", bytes, `metadata block at ${at}`);
  const sb = readSuperblock(image.read(0, SUPERBLOCK_SIZE), image.size);
  if (sb.flags & FLAG_COMPRESSOR_OPTIONS && sb.compression !== 1)
    throw new FormatError("squashfs", `unsupported compressor ${sb.compression}`);
  const end = Math.min(image.size, sb.bytesUsed);
  const inodes = new MetadataReader(image, sb.compression, sb.directoryTableStart, visit);
  const dirs = new MetadataReader(image, sb.compression, end, visit);
  const tables = new MetadataReader(image, sb.compression, end, visit);
  const ids = readLookupTable(image, tables, sb.idTableStart, sb.idCount, 4, "id");
  const idOf = (i: number, what: string): number => {
    if (i >= sb.idCount)
      throw new FormatError("squashfs", `${what} index ${i} is outside the id table (${sb.idCount} ids)`);
    return ids.readUInt32LE(i * 4);
  };
  const fragments =
    sb.fragmentCount > 0 && sb.fragmentTableStart >= 0
      ? readLookupTable(image, tables, sb.fragmentTableStart, sb.fragmentCount, 16, "fragment")
      : Buffer.alloc(0);

  const inodeAt = (ref: bigint): Inode => {
    const block = Number(ref >> 16n);
    const offset = Number(ref & 0xffffn);
    if (sb.inodeTableStart + block >= sb.directoryTableStart)
      throw new FormatError("squashfs", `inode reference ${ref} points outside the inode table`);
    return readInode(inodes.cursor(sb.inodeTableStart + block, offset), sb.blockSize, image.size);
  };

  const fragmentBlock = (index: number, path: string): Buffer => {
    if (index >= sb.fragmentCount)
      throw new FormatError(
        "squashfs",
        `'${printable(path)}': fragment ${index} does not exist (${sb.fragmentCount} fragments)`,
      );
    const start = Number(fragments.readBigUInt64LE(index * 16));
    const word = fragments.readUInt32LE(index * 16 + 8);
    const onDisk = word & ~UNCOMPRESSED_BLOCK;
    if (onDisk > sb.blockSize || start + onDisk > end)
      throw new FormatError("squashfs", `fragment ${index} is out of range`);
    const raw = image.read(start, onDisk);
    return word & UNCOMPRESSED_BLOCK ? raw : decompressBlock(sb.compression, raw, sb.blockSize, `fragment ${index}`);
  };

  /**
   * A file's bytes with random access: each read decompresses the blocks it covers (the last
   * one is kept for the next read), so memory follows the block size, never the file size.
   */
  const fileContent = (ino: Inode, path: string) => (): ByteSource => {
    const size = ino.fileSize!;
    const words = ino.blockSizes!;
    const bs = sb.blockSize;
    const starts: number[] = [];
    for (let i = 0, pos = ino.blocksStart!; i < words.length; i++) {
      starts.push(pos);
      pos += words[i]! & ~UNCOMPRESSED_BLOCK;
    }
    let cached: { index: number; data: Buffer } | undefined;
    /** Block `index` decompressed, exactly as many bytes as the file has there; past the blocks, the fragment's tail. */
    const block = (index: number): Buffer => {
      if (cached?.index === index) return cached.data;
      const want = Math.min(bs, size - index * bs);
      let data: Buffer;
      if (index < words.length) {
        const word = words[index]!;
        const onDisk = word & ~UNCOMPRESSED_BLOCK;
        const pos = starts[index]!;
        if (onDisk === 0)
          data = Buffer.alloc(want); // a sparse block
        else {
          if (onDisk > bs || pos + onDisk > end)
            throw new FormatError(
              "squashfs",
              `'${printable(path)}': data block ${index} (${onDisk} bytes at ${pos}) is out of range`,
            );
          const raw = image.read(pos, onDisk);
          data =
            word & UNCOMPRESSED_BLOCK
              ? raw
              : decompressBlock(sb.compression, raw, bs, `'${printable(path)}' block ${index}`);
          if (data.length < want)
            throw new FormatError(
              "squashfs",
              `'${printable(path)}': block ${index} holds ${data.length} bytes, expected ${want}`,
            );
          data = data.subarray(0, want);
        }
      } else {
        if (ino.fragment === NO_FRAGMENT)
          throw new FormatError("squashfs", `'${printable(path)}': ${size - index * bs} bytes missing and no fragment`);
        const frag = fragmentBlock(ino.fragment!, path);
        const off = ino.fragmentOffset!;
        if (off + want > frag.length)
          throw new FormatError("squashfs", `'${printable(path)}': fragment ${ino.fragment} is too short`);
        data = frag.subarray(off, off + want);
      }
      cached = { index, data };
      return data;
    };
    const into = (target: Buffer, offset: number): number => {
      let done = 0;
      while (done < target.length && offset + done < size) {
        const at = offset + done;
        const index = Math.floor(at / bs);
        const b = block(index);
        const within = at - index * bs;
        done += b.copy(target, done, within, Math.min(b.length, within + target.length - done));
      }
      return done;
    };
    return {
      size,
      // Streamed a block at a time: no copy, and the parts whose compression the gzip
      // writer judges one by one (gzip/by-content.ts) are the blocks as stored.
      pieceSize: bs,
      read(offset, length) {
        const n = Math.max(0, Math.min(length, size - offset));
        const index = Math.floor(offset / bs);
        if (n > 0 && Math.floor((offset + n - 1) / bs) === index) {
          const within = offset - index * bs;
          return block(index).subarray(within, within + n); // within one block: no copy
        }
        const out = Buffer.allocUnsafe(n);
        return out.subarray(0, into(out, offset));
      },
      readInto: (target, offset) =>
        into(target.subarray(0, Math.max(0, Math.min(target.length, size - offset))), offset),
      close: () => {},
    };
  };

  const entries: Entry[] = [];
  const firstPathOfInode = new Map<number, string>();
  // Each directory listing is expanded once: a second directory pointing at the same
  // listing (a loop, or a DAG that would multiply the tree) is corruption.
  const expanded = new Set<string>();
  let fileBytes = 0;

  const walk = async (dir: Inode, prefix: string, depth: number): Promise<void> => {
    if (depth > MAX_DEPTH)
      throw new FormatError("squashfs", `directories nest deeper than ${MAX_DEPTH} at '${printable(prefix)}'`);
    let left = dir.dirSize! - 3; // the listing size counts '.' and '..' as 3 bytes
    if (left <= 0) return; // empty: no listing (empty directories may share a position)
    const key = `${dir.dirBlock}:${dir.dirOffset}`;
    if (expanded.has(key))
      throw new FormatError(
        "squashfs",
        `directory '${printable(prefix)}' reuses the listing of another directory (a loop or a shared directory)`,
      );
    expanded.add(key);
    const c = dirs.cursor(sb.directoryTableStart + dir.dirBlock!, dir.dirOffset!);
    while (left > 0) {
      if (left < 12) throw new FormatError("squashfs", `directory '${printable(prefix)}' listing is malformed`);
      const h = c.take(12);
      left -= 12;
      const count = h.readUInt32LE(0) + 1;
      const start = h.readUInt32LE(4);
      const base = h.readUInt32LE(8);
      if (count > 256)
        throw new FormatError(
          "squashfs",
          `directory header in '${printable(prefix)}' claims ${count} entries (at most 256)`,
        );
      for (let i = 0; i < count; i++) {
        await budget.pause();
        const e = c.take(8);
        const nameSize = e.readUInt16LE(6) + 1;
        const name = c.take(nameSize).toString("utf8");
        left -= 8 + nameSize;
        if (left < 0) throw new FormatError("squashfs", `directory '${printable(prefix)}' listing overruns its size`);
        if (name === "." || name === ".." || name.includes("/") || name.includes("\0"))
          throw new FormatError("squashfs", `invalid name '${printable(name)}' in '${printable(prefix)}'`);
        if (entries.length >= limits.entries)
          throw new FormatError("squashfs", `more than ${limits.entries} entries (the limit for one container)`);
        const ref = (BigInt(start) << 16n) | BigInt(e.readUInt16LE(0));
        const ino = inodeAt(ref);
        const expected = (base + e.readInt16LE(2)) >>> 0;
        if (ino.number !== expected)
          throw new FormatError(
            "squashfs",
            `'${printable(name)}' in '${printable(prefix)}': inode number ${ino.number}, directory says ${expected}`,
          );
        const path = prefix ? `${prefix}/${name}` : name;
        const entry: Entry = {
          path,
          type: ino.type,
          mode: ino.mode,
          uid: idOf(ino.uidIndex, "uid"),
          gid: idOf(ino.gidIndex, "gid"),
          mtime: ino.mtime,
          size: 0,
        };
        const linked = ino.type !== "dir" ? firstPathOfInode.get(ino.number) : undefined;
        if (linked !== undefined) {
          entries.push({ ...entry, type: "hardlink", linkTarget: linked });
          continue;
        }
        if (ino.type !== "dir") firstPathOfInode.set(ino.number, path);
        if (ino.type === "file") {
          entry.size = ino.fileSize!;
          // Sparse blocks cost nothing on disk: a few bytes can claim gigabytes of zeros.
          fileBytes += entry.size;
          if (fileBytes > limits.bytes)
            throw new FormatError(
              "squashfs",
              `its files hold more than ${limits.bytes} bytes (the limit for one container)`,
            );
          entry.content = fileContent(ino, path);
        } else if (ino.type === "symlink") entry.linkTarget = ino.target!;
        else if (ino.type === "char" || ino.type === "block")
          [entry.rdevMajor, entry.rdevMinor] = [ino.rdevMajor!, ino.rdevMinor!];
        entries.push(entry);
        if (ino.type === "dir") await walk(ino, path, depth + 1);
      }
    }
  };

  const root = inodeAt(sb.rootInodeRef);
  if (root.type !== "dir") throw new FormatError("squashfs", "the root inode is not a directory");
  entries.push({
    path: "",
    type: "dir",
    mode: root.mode,
    uid: idOf(root.uidIndex, "uid"),
    gid: idOf(root.gidIndex, "gid"),
    mtime: root.mtime,
    size: 0,
  });
  await walk(root, "", 0);
  return entries;
}
