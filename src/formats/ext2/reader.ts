// ext2 reader over random-access bytes (writer.ts writes it; mke2fs -t ext2 and ext3/ext4
// without extents read the same): directories walked from the root, files streamed through
// their block maps. Guards: the geometry must fit the image, every block and inode number
// is checked, a directory reached twice (a loop, or a second name) is refused, every block
// a map or a directory visits is counted against the reading's budget, names cannot escape.
import { FormatError } from "../../errors.js";
import { concatSource, rangesSource, zeroSource, type ByteSource } from "../../io/byte-source.js";
import { normalizeEntryPath, printable, typeFromMode, type Entry, type EntryType } from "../../tree/entry.js";
import { budgetOf, DEFAULT_LIMITS, type ReadLimits } from "../limits.js";
import {
  decodeDevice,
  DIRECT_BLOCKS,
  FAST_SYMLINK_MAX,
  FEATURE,
  MAGIC,
  ROOT_INODE,
  SUPERBLOCK_OFFSET,
  SUPERBLOCK_SIZE,
  type Superblock,
} from "./layout.js";

const MAX_DEPTH = 128;
const INCOMPAT_NAMES: Record<number, string> = {
  0x0001: "compression",
  0x0004: "a journal to recover (needs_recovery)",
  0x0008: "a journal device",
  0x0010: "meta_bg",
  0x0040: "extents (ext4)",
  0x0080: "64bit",
  0x0100: "mmp",
  0x0400: "extended attributes in inodes",
  0x1000: "inline data",
  0x2000: "encryption",
  0x4000: "casefold",
  0x10000: "large directories",
};

/** An ext2/3/4 superblock's magic where it lies, 1080 bytes in. */
export const isExt2 = (head: Buffer): boolean =>
  head.length >= SUPERBLOCK_OFFSET + 58 && head.readUInt16LE(SUPERBLOCK_OFFSET + 56) === MAGIC;

export function decodeSuperblock(src: ByteSource): Superblock {
  const s = src.read(SUPERBLOCK_OFFSET, SUPERBLOCK_SIZE);
  if (s.length < SUPERBLOCK_SIZE) throw new FormatError("ext2", "the superblock is truncated");
  if (s.readUInt16LE(56) !== MAGIC) throw new FormatError("ext2", "no ext2 superblock (magic EF53) at byte 1024");
  const log = s.readUInt32LE(24);
  if (log > 6) throw new FormatError("ext2", `block size 2^${10 + log} is not one ext2 has`);
  const blockSize = 1024 << log;
  const rev = s.readUInt32LE(76);
  const sb: Superblock = {
    inodesCount: s.readUInt32LE(0),
    blocksCount: s.readUInt32LE(4),
    freeBlocks: s.readUInt32LE(12),
    freeInodes: s.readUInt32LE(16),
    firstDataBlock: s.readUInt32LE(20),
    blockSize,
    blocksPerGroup: s.readUInt32LE(32),
    inodesPerGroup: s.readUInt32LE(40),
    inodeSize: rev >= 1 ? s.readUInt16LE(88) : 128,
    incompat: rev >= 1 ? s.readUInt32LE(96) : 0,
    roCompat: rev >= 1 ? s.readUInt32LE(100) : 0,
    uuid: Buffer.from(s.subarray(104, 120)),
    label: s.toString("latin1", 120, 136).replace(/\0.*$/s, ""),
    made: s.readUInt32LE(264),
  };
  const bad = (what: string) => new FormatError("ext2", `the superblock's ${what}`);
  if (sb.blocksCount === 0 || sb.blocksCount * blockSize > src.size)
    throw new FormatError(
      "ext2",
      `the file system says ${sb.blocksCount} blocks of ${blockSize} bytes; the image has ${src.size} bytes (truncated?)`,
    );
  if (sb.firstDataBlock !== (blockSize === 1024 ? 1 : 0)) throw bad(`first data block ${sb.firstDataBlock} is wrong`);
  if (sb.blocksPerGroup === 0 || sb.blocksPerGroup > 8 * blockSize)
    throw bad(`${sb.blocksPerGroup} blocks per group do not fit a bitmap`);
  if (sb.inodesPerGroup === 0 || sb.inodesPerGroup > 8 * blockSize)
    throw bad(`${sb.inodesPerGroup} inodes per group do not fit a bitmap`);
  if (sb.inodeSize < 128 || sb.inodeSize > blockSize || (sb.inodeSize & (sb.inodeSize - 1)) !== 0)
    throw bad(`inode size ${sb.inodeSize} is not a power of two from 128 to the block size`);
  const unknown = sb.incompat & ~FEATURE.readableIncompat;
  if (unknown) {
    const names = Object.entries(INCOMPAT_NAMES)
      .filter(([bit]) => unknown & Number(bit))
      .map(([, n]) => n);
    throw new FormatError(
      "ext2",
      `the file system uses ${names.length ? names.join(", ") : `incompatible features 0x${unknown.toString(16)}`}, which mkbundle does not read (it reads ext2 and block-mapped ext3/ext4)`,
    );
  }
  return sb;
}

interface Inode {
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  links: number;
  blocks512: number;
  fileAcl: number;
  iblock: number[];
}

export async function* readExt2(src: ByteSource, limits: ReadLimits = DEFAULT_LIMITS): AsyncGenerator<Entry> {
  const budget = budgetOf(limits);
  const sb = decodeSuperblock(src);
  const B = sb.blockSize;
  const groups = Math.ceil((sb.blocksCount - sb.firstDataBlock) / sb.blocksPerGroup);
  if (sb.inodesCount > groups * sb.inodesPerGroup)
    throw new FormatError("ext2", `${sb.inodesCount} inodes in ${groups} groups of ${sb.inodesPerGroup}`);
  const descAt = (sb.firstDataBlock + 1) * B;
  const descs = src.read(descAt, groups * 32);
  if (descs.length < groups * 32) throw new FormatError("ext2", "the group descriptors are truncated");
  budget.visit("ext2", descs.length, "the group descriptors");
  const checkBlock = (b: number, what: string) => {
    if (b < sb.firstDataBlock || b >= sb.blocksCount)
      throw new FormatError(
        "ext2",
        `${what}: block ${b} is outside the file system (${sb.firstDataBlock}..${sb.blocksCount - 1})`,
      );
  };

  const readInode = (n: number, what: string): Inode => {
    if (n < 1 || n > sb.inodesCount)
      throw new FormatError("ext2", `${what}: inode ${n} is outside the file system (1..${sb.inodesCount})`);
    const g = Math.floor((n - 1) / sb.inodesPerGroup);
    const table = descs.readUInt32LE(g * 32 + 8);
    const tableBlocks = Math.ceil((sb.inodesPerGroup * sb.inodeSize) / B);
    checkBlock(table, `the inode table of group ${g}`);
    checkBlock(table + tableBlocks - 1, `the inode table of group ${g}`);
    const at = table * B + ((n - 1) % sb.inodesPerGroup) * sb.inodeSize;
    const b = src.read(at, 128);
    if (b.length < 128) throw new FormatError("ext2", `${what}: inode ${n} is truncated`);
    budget.visit("ext2", sb.inodeSize, what);
    const high = b.readUInt32LE(108);
    return {
      mode: b.readUInt16LE(0),
      uid: b.readUInt16LE(2) | (b.readUInt16LE(120) << 16),
      gid: b.readUInt16LE(24) | (b.readUInt16LE(122) << 16),
      size: b.readUInt32LE(4) + (typeFromMode(b.readUInt16LE(0)) === "file" ? high * 2 ** 32 : 0),
      mtime: b.readUInt32LE(16),
      links: b.readUInt16LE(26),
      blocks512: b.readUInt32LE(28),
      fileAcl: b.readUInt32LE(104),
      iblock: Array.from({ length: 15 }, (_, i) => b.readUInt32LE(40 + 4 * i)),
    };
  };

  /** The physical block of each logical block up to `count` (0: a hole), every pointer checked. */
  const blockMap = (ino: Inode, count: number, what: string): number[] => {
    const P = B / 4;
    const out: number[] = [];
    const pointers = (b: number): Buffer => {
      checkBlock(b, `${what}'s block map`);
      budget.visit("ext2", B, what);
      const got = src.read(b * B, B);
      if (got.length < B) throw new FormatError("ext2", `${what}: an indirect block is truncated`);
      return got;
    };
    const walk = (b: number, depth: number) => {
      const span = P ** depth;
      if (b === 0) {
        for (let i = 0; i < span && out.length < count; i++) out.push(0);
        return;
      }
      if (depth === 0) {
        checkBlock(b, what);
        out.push(b);
        return;
      }
      const ptrs = pointers(b);
      for (let i = 0; i < P && out.length < count; i++) walk(ptrs.readUInt32LE(4 * i), depth - 1);
    };
    for (let i = 0; i < DIRECT_BLOCKS && out.length < count; i++) walk(ino.iblock[i]!, 0);
    for (let d = 1; d <= 3 && out.length < count; d++) walk(ino.iblock[DIRECT_BLOCKS + d - 1]!, d);
    if (out.length < count) throw new FormatError("ext2", `${what} is larger than its block map can hold`);
    return out;
  };

  /** An inode's bytes as a source: runs of blocks where they lie, zeros for holes. */
  const contentOf = (ino: Inode, what: string): ByteSource => {
    const map = blockMap(ino, Math.ceil(ino.size / B), what);
    const parts: ByteSource[] = [];
    for (let i = 0; i < map.length;) {
      let run = 1;
      while (i + run < map.length && (map[i] ? map[i + run] === map[i]! + run : map[i + run] === 0)) run++;
      const length = Math.min(run * B, ino.size - i * B);
      parts.push(map[i] ? rangesSource(src, [{ offset: map[i]! * B, length }]) : zeroSource(length));
      i += run;
    }
    return parts.length === 1 ? parts[0]! : concatSource(parts);
  };

  const typeOf = (mode: number, what: string): Exclude<EntryType, "hardlink"> => {
    const t = typeFromMode(mode);
    if (!t) throw new FormatError("ext2", `${what}: mode 0${mode.toString(8)} is no kind of file`);
    return t;
  };

  const root = readInode(ROOT_INODE, "the root directory");
  yield { path: "", type: "dir", mode: root.mode & 0o7777, uid: root.uid, gid: root.gid, mtime: root.mtime, size: 0 };
  let entries = 0;
  let bytes = 0;
  const firstName = new Map<number, string>();
  const seenDirs = new Set<number>();
  const stack: { ino: number; path: string; depth: number }[] = [{ ino: ROOT_INODE, path: "", depth: 0 }];
  while (stack.length) {
    const { ino: dirIno, path: dirPath, depth } = stack.pop()!;
    const dirWhat = dirPath ? `directory '${printable(dirPath)}'` : "the root directory";
    if (depth > MAX_DEPTH) throw new FormatError("ext2", `${dirWhat} is nested more than ${MAX_DEPTH} deep`);
    if (seenDirs.has(dirIno))
      throw new FormatError("ext2", `${dirWhat}: inode ${dirIno} is reached twice (a directory loop or a second name)`);
    seenDirs.add(dirIno);
    const dir = readInode(dirIno, dirWhat);
    if (typeFromMode(dir.mode) !== "dir") throw new FormatError("ext2", `${dirWhat} is not a directory`);
    if (dir.size > limits.metadata)
      throw new FormatError("ext2", `${dirWhat} says it is ${dir.size} bytes (MKBUNDLE_MAX_METADATA)`);
    const listing = contentOf(dir, dirWhat);
    const children: { ino: number; path: string; depth: number }[] = [];
    for (let off = 0; off < listing.size; off += B) {
      const block = listing.read(off, Math.min(B, listing.size - off));
      budget.visit("ext2", block.length, dirWhat);
      for (let at = 0; at < block.length;) {
        if (at + 8 > block.length) throw new FormatError("ext2", `${dirWhat}: an entry is cut off at byte ${off + at}`);
        const ino = block.readUInt32LE(at);
        const recLen = block.readUInt16LE(at + 4);
        const nameLen = block[at + 6]!;
        if (recLen < 8 + nameLen || recLen % 4 !== 0 || at + recLen > block.length)
          throw new FormatError("ext2", `${dirWhat}: an entry at byte ${off + at} has a broken length (${recLen})`);
        const name = block.subarray(at + 8, at + 8 + nameLen);
        at += recLen;
        if (ino === 0) continue;
        const text = name.toString("utf8");
        if (text === "." || text === "..") continue;
        if (!nameLen || name.includes(0x2f) || name.includes(0))
          throw new FormatError("ext2", `${dirWhat}: the name '${printable(text)}' is not a file name`);
        const path = normalizeEntryPath("ext2", dirPath ? `${dirPath}/${text}` : text);
        if (++entries > limits.entries)
          throw new FormatError("ext2", `more than ${limits.entries} entries (MKBUNDLE_MAX_ENTRIES)`);
        const node = readInode(ino, `'${printable(path)}'`);
        const type = typeOf(node.mode, `'${printable(path)}'`);
        const base = { path, mode: node.mode & 0o7777, uid: node.uid, gid: node.gid, mtime: node.mtime };
        const earlier = firstName.get(ino);
        if (earlier !== undefined && type !== "dir") {
          yield { ...base, type: "hardlink", size: 0, linkTarget: earlier };
          continue;
        }
        firstName.set(ino, path);
        if (type === "dir") {
          yield { ...base, type, size: 0 };
          children.push({ ino, path, depth: depth + 1 });
        } else if (type === "file") {
          bytes += node.size;
          if (bytes > limits.bytes)
            throw new FormatError("ext2", `the files hold more than ${limits.bytes} bytes (MKBUNDLE_MAX_BYTES)`);
          const what = `'${printable(path)}'`;
          const content = contentOf(node, what);
          yield { ...base, type, size: node.size, content: () => content };
        } else if (type === "symlink") {
          const dataBlocks = node.blocks512 - (node.fileAcl ? B / 512 : 0);
          if (node.size > B) throw new FormatError("ext2", `'${printable(path)}': a link target of ${node.size} bytes`);
          const target =
            dataBlocks === 0 && node.size < FAST_SYMLINK_MAX
              ? Buffer.concat(
                  node.iblock.map((p) => {
                    const b = Buffer.alloc(4);
                    b.writeUInt32LE(p);
                    return b;
                  }),
                ).subarray(0, node.size)
              : contentOf(node, `'${printable(path)}'`).read(0, node.size);
          yield { ...base, type, size: 0, linkTarget: target.toString("utf8") };
        } else if (type === "char" || type === "block") {
          const dev = decodeDevice(node.iblock[0]!, node.iblock[1]!);
          yield { ...base, type, size: 0, rdevMajor: dev.major, rdevMinor: dev.minor };
        } else yield { ...base, type, size: 0 };
        await budget.pause();
      }
    }
    // Depth first, in the order the directory lists them.
    stack.push(...children.reverse());
  }
}
