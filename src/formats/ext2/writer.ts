// Reproducible ext2 writer (reader.ts reads it): a file system of a given size from Entries,
// what `mke2fs -t ext2 -b B -O ^resize_inode,^dir_index,^ext_attr -m 0 -d` makes, laid out from
// names and sizes alone. Revision 1, 128-byte inodes, the filetype, sparse_super and
// large_file features, no reserved blocks. Inodes are numbered breadth first from the root
// (2), /lost+found is 11; blocks are handed out in inode order, a file's indirect blocks
// before the data they map (as Linux does). The UUID and every time come from the content
// and the epoch, so the same entries make the same bytes. The image is a random-access source:
// file data is read from the entries where it lies, each run opened when reached and closed
// at its end, never held whole.
import { createHash } from "node:crypto";
import { FormatError } from "../../errors.js";
import {
  bufferSource,
  concatSource,
  readInto,
  borrowedPieces,
  sourceChunks,
  zeroSource,
  type ByteSource,
} from "../../io/byte-source.js";
import { openContent, printable, typeBits, type Entry } from "../../tree/entry.js";
import { inodeOf, inodeTree, type InodeNode } from "../../tree/inode-tree.js";
import type { WriteOptions } from "../codec.js";
import {
  DIRECT_BLOCKS,
  DIRENT_TYPE,
  direntSize,
  encodeDevice,
  FAST_SYMLINK_MAX,
  FEATURE,
  FIRST_INODE,
  GROUP_DESC_SIZE,
  hasSuperBackup,
  LOST_AND_FOUND_INODE,
  MAGIC,
  ROOT_INODE,
  SUPERBLOCK_OFFSET,
  SUPERBLOCK_SIZE,
} from "./layout.js";

export interface Ext2Options extends WriteOptions {
  /** The file system's size in bytes: whole blocks, at least 64 KiB. */
  size: number;
  /** 1024 or 4096 (the default). */
  blockSize?: 1024 | 4096;
  /** Volume label, up to 16 bytes (what `LABEL=` and Tiny Core's scripts find it by). */
  label?: string;
}

export interface Ext2Image {
  size: number;
  /** The file system's UUID, from its content. */
  uuid: string;
  source(): ByteSource;
  stream(): AsyncGenerator<Buffer>;
}

const INODE_SIZE = 128;
/** Bytes of file system per inode, as mke2fs's default (at least the entries' count is made). */
const BYTES_PER_INODE = 8192;
const MAX_NAME = 255;

interface Node extends InodeNode<Node> {
  ino: number;
  /** Data blocks in logical order, and the indirect blocks with the pointers they hold. */
  data: number[];
  meta: { block: number; pointers: number[] }[];
  iblock: number[];
  /** A directory's listing, or a long symlink's target. */
  bytes?: Buffer;
}

export function ext2Image(entries: readonly Entry[], o: Ext2Options): Ext2Image {
  const B = o.blockSize ?? 4096;
  if (B !== 1024 && B !== 4096) throw new RangeError(`ext2 block size must be 1024 or 4096, got ${String(B)}`);
  const label = Buffer.from(o.label ?? "");
  if (label.length > 16) throw new FormatError("ext2", `the label '${printable(o.label!)}' is longer than 16 bytes`);
  const root = buildTree(entries, o.epoch);

  // Inode numbers: the root is 2, lost+found 11, the rest from 12, breadth first.
  const nodes: Node[] = [];
  const lostFound = root.children.find((c) => c.name === "lost+found")!;
  root.ino = ROOT_INODE;
  lostFound.ino = LOST_AND_FOUND_INODE;
  let next = FIRST_INODE + 1;
  for (let queue = [root]; queue.length;) {
    const level: Node[] = [];
    for (const n of queue) {
      if (inodeOf(n) !== n) continue;
      if (!n.ino) n.ino = next++;
      nodes.push(n);
      level.push(...n.children);
    }
    queue = level;
  }
  const inodesNeeded = next - 1;

  // Geometry: groups of 8 * B blocks; a last group too small for its own tables is left out.
  let blocks = Math.floor(o.size / B);
  const first = B === 1024 ? 1 : 0;
  const perGroup = 8 * B;
  const inodesPerBlock = B / INODE_SIZE;
  let groups = Math.ceil((blocks - first) / perGroup);
  const descBlocks = () => Math.ceil((groups * GROUP_DESC_SIZE) / B);
  let perGroupInodes = 0;
  const tableBlocks = () => perGroupInodes / inodesPerBlock;
  const overhead = (g: number) => (hasSuperBackup(g) ? 1 + descBlocks() : 0) + 2 + tableBlocks();
  const groupStart = (g: number) => first + g * perGroup;
  const groupBlocks = (g: number) => Math.min(perGroup, blocks - groupStart(g));
  /** Where group g's block bitmap is; its inode bitmap and inode table follow. */
  const tablesOf = (g: number) => groupStart(g) + (hasSuperBackup(g) ? 1 + descBlocks() : 0);
  /** Inodes in use in group g: they are numbered from 1 without gaps. */
  const usedInodes = (g: number) => Math.max(0, Math.min(perGroupInodes, inodesNeeded - g * perGroupInodes));
  const chooseInodes = () => {
    const want = Math.max(Math.ceil((blocks * B) / BYTES_PER_INODE / groups), Math.ceil(inodesNeeded / groups), 16);
    perGroupInodes = Math.min(Math.ceil(want / inodesPerBlock) * inodesPerBlock, 8 * B);
  };
  if (groups < 1) throw new FormatError("ext2", `a file system of ${o.size} bytes holds no block group`);
  chooseInodes();
  if (groups > 1 && groupBlocks(groups - 1) < overhead(groups - 1) + 50) {
    groups--;
    blocks = groupStart(groups);
    chooseInodes();
  }
  if (blocks < 64 || groupBlocks(groups - 1) <= overhead(groups - 1))
    throw new FormatError("ext2", `a file system of ${o.size} bytes is too small (at least 64 KiB)`);
  const inodes = groups * perGroupInodes;
  if (inodesNeeded > inodes)
    throw new FormatError("ext2", `${inodesNeeded} inodes needed, a file system of ${o.size} bytes has ${inodes}`);

  // Blocks, in inode order: each group's data region after its tables.
  let group = 0;
  let cursor = groupStart(0) + overhead(0);
  const alloc = (): number => {
    while (cursor >= groupStart(group) + groupBlocks(group)) {
      group++;
      if (group >= groups)
        throw new FormatError("ext2", `the entries need more than the ${o.size} bytes of the file system`);
      cursor = groupStart(group) + overhead(group);
    }
    return cursor++;
  };
  const P = B / 4;
  for (const n of nodes) {
    if (n.kind === "dir") n.bytes = listing(n, B);
    if (n.kind === "symlink" && Buffer.byteLength(n.entry.linkTarget ?? "") >= FAST_SYMLINK_MAX)
      n.bytes = Buffer.from(n.entry.linkTarget ?? "");
    const size = n.kind === "file" ? n.entry.size : (n.bytes?.length ?? 0);
    mapBlocks(n, Math.ceil(size / B), P, alloc);
  }

  // Inodes, bitmaps, group descriptors, superblocks.
  const inodeBytes = new Map<number, Buffer>();
  const dirsInGroup = new Array<number>(groups).fill(0);
  for (const n of nodes) {
    inodeBytes.set(n.ino, encodeInode(n, B, o.epoch));
    if (n.kind === "dir") dirsInGroup[Math.floor((n.ino - 1) / perGroupInodes)]!++;
  }
  const uuid = createHash("sha256")
    .update(`ext2 ${B} ${blocks} ${perGroupInodes}\0`)
    .update(label)
    .update(Buffer.concat([...inodeBytes.values()]))
    .update(Buffer.concat(nodes.map((n) => n.bytes ?? Buffer.alloc(0))))
    .update(fileDataDigest(nodes))
    .digest()
    .subarray(0, 16);
  uuid[6] = (uuid[6]! & 0x0f) | 0x50; // a name-based UUID (version 5 layout), RFC 4122 variant
  uuid[8] = (uuid[8]! & 0x3f) | 0x80;

  const blockBitmaps: Buffer[] = [];
  const inodeBitmaps: Buffer[] = [];
  const desc = Buffer.alloc(descBlocks() * B);
  let freeBlocks = 0;
  let freeInodes = 0;
  for (let g = 0; g < groups; g++) {
    const bb = Buffer.alloc(B);
    const count = groupBlocks(g);
    // Blocks are handed out in order: every group before the cursor's is full, every one after it has its tables only.
    const used = g < group ? count : g === group ? cursor - groupStart(g) : overhead(g);
    for (let i = 0; i < used; i++) setBit(bb, i);
    for (let i = count; i < 8 * B; i++) setBit(bb, i); // past the end of the file system
    const ib = Buffer.alloc(B);
    const inGroup = usedInodes(g);
    for (let i = 0; i < inGroup; i++) setBit(ib, i);
    for (let i = perGroupInodes; i < 8 * B; i++) setBit(ib, i);
    blockBitmaps.push(bb);
    inodeBitmaps.push(ib);
    const tables = tablesOf(g);
    const d = desc.subarray(g * GROUP_DESC_SIZE);
    d.writeUInt32LE(tables, 0);
    d.writeUInt32LE(tables + 1, 4);
    d.writeUInt32LE(tables + 2, 8);
    d.writeUInt16LE(count - used, 12);
    d.writeUInt16LE(perGroupInodes - inGroup, 14);
    d.writeUInt16LE(dirsInGroup[g]!, 16);
    freeBlocks += count - used;
    freeInodes += perGroupInodes - inGroup;
  }
  const anyLarge = nodes.some((n) => n.kind === "file" && n.entry.size >= 2 ** 31);
  const superblock = (g: number) => {
    const s = Buffer.alloc(SUPERBLOCK_SIZE);
    s.writeUInt32LE(inodes, 0);
    s.writeUInt32LE(blocks, 4);
    s.writeUInt32LE(freeBlocks, 12);
    s.writeUInt32LE(freeInodes, 16);
    s.writeUInt32LE(first, 20);
    s.writeUInt32LE(Math.log2(B) - 10, 24);
    s.writeUInt32LE(Math.log2(B) - 10, 28);
    s.writeUInt32LE(perGroup, 32);
    s.writeUInt32LE(perGroup, 36);
    s.writeUInt32LE(perGroupInodes, 40);
    s.writeUInt32LE(o.epoch >>> 0, 48); // last written
    s.writeInt16LE(-1, 54); // no check forced by a mount count
    s.writeUInt16LE(MAGIC, 56);
    s.writeUInt16LE(1, 58); // cleanly unmounted
    s.writeUInt16LE(1, 60); // on errors: continue
    s.writeUInt32LE(o.epoch >>> 0, 64); // last checked
    s.writeUInt32LE(1, 76); // revision 1: dynamic inode sizes and features
    s.writeUInt32LE(FIRST_INODE, 84);
    s.writeUInt16LE(INODE_SIZE, 88);
    s.writeUInt16LE(g, 90);
    s.writeUInt32LE(FEATURE.filetype, 96);
    s.writeUInt32LE(FEATURE.sparseSuper | (anyLarge ? FEATURE.largeFile : 0), 100);
    uuid.copy(s, 104);
    label.copy(s, 120);
    s.writeUInt32LE(o.epoch >>> 0, 264); // made
    return s;
  };

  // The image as placements, block by block; what lies between them is zeros.
  const placements: { at: number; source: () => ByteSource }[] = [];
  const put = (at: number, b: Buffer) => placements.push({ at, source: () => bufferSource(b) });
  for (let g = 0; g < groups; g++) {
    if (hasSuperBackup(g)) {
      put(g === 0 ? SUPERBLOCK_OFFSET : groupStart(g) * B, superblock(g));
      put((groupStart(g) + 1) * B, desc);
    }
    const tables = tablesOf(g);
    put(tables * B, blockBitmaps[g]!);
    put((tables + 1) * B, inodeBitmaps[g]!);
    const from = g * perGroupInodes + 1;
    const used = usedInodes(g);
    if (used) {
      const table = Buffer.alloc(used * INODE_SIZE);
      for (let i = 0; i < used; i++) inodeBytes.get(from + i)?.copy(table, i * INODE_SIZE);
      put((tables + 2) * B, table);
    }
  }
  for (const n of nodes) {
    for (const m of n.meta) {
      const b = Buffer.alloc(B);
      m.pointers.forEach((p, i) => b.writeUInt32LE(p, 4 * i));
      put(m.block * B, b);
    }
    for (let i = 0; i < n.data.length;) {
      let run = 1;
      while (i + run < n.data.length && n.data[i + run] === n.data[i]! + run) run++;
      const [offset, length] = [i * B, run * B];
      if (n.bytes) put(n.data[i]! * B, n.bytes.subarray(offset, offset + length));
      else {
        const e = n.entry;
        placements.push({ at: n.data[i]! * B, source: () => runSource(e, offset, Math.min(length, e.size - offset)) });
      }
      i += run;
    }
  }
  placements.sort((a, b) => a.at - b.at);
  const size = blocks * B;
  const source = (): ByteSource => {
    const parts: ByteSource[] = [];
    let at = 0;
    for (const p of placements) {
      if (p.at > at) parts.push(zeroSource(p.at - at));
      const s = p.source();
      parts.push(s);
      at = p.at + s.size;
    }
    parts.push(zeroSource(size - at));
    return concatSource(parts);
  };
  return { size, uuid: formatUuid(uuid), source, stream: () => sourceChunks(source()) };
}

/** The directory tree: implicit parents added, hard links resolved to their inode, /lost+found made. */
function buildTree(entries: readonly Entry[], epoch: number): Node {
  // Where e2fsck puts what it finds: inode 11, as mke2fs makes it.
  const found = entries.find((e) => e.path === "lost+found");
  if (found && found.type !== "dir") throw new FormatError("ext2", "'lost+found' must be a directory in ext2");
  const lostFound: Entry = { path: "lost+found", type: "dir", mode: 0o700, uid: 0, gid: 0, mtime: epoch, size: 0 };
  const { root } = inodeTree<Node>(found ? entries : [...entries, lostFound], {
    format: "ext2",
    epoch,
    maxName: MAX_NAME,
    make: (entry, kind, name, parent) => ({
      entry,
      kind,
      name,
      children: [],
      ...(parent ? { parent } : {}),
      ino: 0,
      links: 1,
      data: [],
      meta: [],
      iblock: [],
    }),
  });
  const countLinks = (n: Node) => {
    n.children.forEach(countLinks);
    if (n.kind === "dir") n.links = 2 + n.children.filter((c) => c.kind === "dir").length;
  };
  countLinks(root);
  return root;
}

/** A directory's entries (., .., then its children by name), in blocks whose last entry reaches the block's end. */
function listing(d: Node, B: number): Buffer {
  const items: { ino: number; name: Buffer; type: number }[] = [
    { ino: d.ino, name: Buffer.from("."), type: DIRENT_TYPE.dir },
    { ino: d.parent?.ino ?? d.ino, name: Buffer.from(".."), type: DIRENT_TYPE.dir },
    ...d.children.map((c) => ({ ino: inodeOf(c).ino, name: Buffer.from(c.name), type: DIRENT_TYPE[inodeOf(c).kind] })),
  ];
  const blocks: Buffer[] = [];
  let block = Buffer.alloc(B);
  let at = 0;
  let last = -1;
  for (const it of items) {
    const size = direntSize(it.name.length);
    if (at + size > B) {
      block.writeUInt16LE(B - last, last + 4);
      blocks.push(block);
      block = Buffer.alloc(B);
      at = 0;
    }
    block.writeUInt32LE(it.ino, at);
    block.writeUInt16LE(size, at + 4);
    block[at + 6] = it.name.length;
    block[at + 7] = it.type;
    it.name.copy(block, at + 8);
    last = at;
    at += size;
  }
  block.writeUInt16LE(B - last, last + 4);
  blocks.push(block);
  return Buffer.concat(blocks);
}

/** Blocks for `count` logical blocks: direct, then through single, double and triple indirect blocks. */
function mapBlocks(n: Node, count: number, P: number, alloc: () => number): void {
  const iblock = new Array<number>(15).fill(0);
  const newMeta = () => {
    const m = { block: alloc(), pointers: [] as number[] };
    n.meta.push(m);
    return m;
  };
  let ind = { block: 0, pointers: [] as number[] };
  let dind = ind;
  let tind = ind;
  for (let i = 0; i < count; i++) {
    if (i < DIRECT_BLOCKS) {
      n.data.push((iblock[i] = alloc()));
      continue;
    }
    let j = i - DIRECT_BLOCKS;
    if (j < P) {
      if (j === 0) iblock[12] = (ind = newMeta()).block;
    } else if ((j -= P) < P * P) {
      if (j === 0) iblock[13] = (dind = newMeta()).block;
      if (j % P === 0) dind.pointers.push((ind = newMeta()).block);
    } else if ((j -= P * P) < P * P * P) {
      if (j === 0) iblock[14] = (tind = newMeta()).block;
      if (j % (P * P) === 0) tind.pointers.push((dind = newMeta()).block);
      if (j % P === 0) dind.pointers.push((ind = newMeta()).block);
    } else throw new FormatError("ext2", `'${printable(n.entry.path)}' is larger than ext2 can map`);
    const b = alloc();
    ind.pointers.push(b);
    n.data.push(b);
  }
  n.iblock = iblock;
}

function encodeInode(n: Node, B: number, epoch: number): Buffer {
  const e = n.entry;
  const b = Buffer.alloc(INODE_SIZE);
  b.writeUInt16LE((typeBits(n.kind) | (e.mode & 0o7777)) & 0xffff, 0);
  b.writeUInt16LE(e.uid & 0xffff, 2);
  const size =
    n.kind === "file"
      ? e.size
      : n.kind === "symlink"
        ? Buffer.byteLength(e.linkTarget ?? "")
        : n.kind === "dir"
          ? n.bytes!.length
          : 0;
  b.writeUInt32LE(size % 2 ** 32, 4);
  const mtime = Math.min(e.mtime, epoch) >>> 0;
  b.writeUInt32LE(mtime, 8); // atime
  b.writeUInt32LE(mtime, 12); // ctime
  b.writeUInt32LE(mtime, 16); // mtime
  b.writeUInt16LE(e.gid & 0xffff, 24);
  b.writeUInt16LE(n.links, 26);
  b.writeUInt32LE((n.data.length + n.meta.length) * (B / 512), 28);
  if (n.kind === "symlink" && size < FAST_SYMLINK_MAX) Buffer.from(e.linkTarget ?? "").copy(b, 40);
  else if (n.kind === "char" || n.kind === "block") {
    const dev = encodeDevice(e.rdevMajor ?? 0, e.rdevMinor ?? 0);
    b.writeUInt32LE(dev.old, 40);
    b.writeUInt32LE(dev.new, 44);
  } else n.iblock.forEach((p, i) => b.writeUInt32LE(p, 40 + 4 * i));
  if (n.kind === "file") b.writeUInt32LE(Math.floor(size / 2 ** 32), 108);
  b.writeUInt16LE((e.uid >>> 16) & 0xffff, 120);
  b.writeUInt16LE((e.gid >>> 16) & 0xffff, 122);
  return b;
}

const setBit = (b: Buffer, i: number) => void (b[i >> 3]! |= 1 << (i & 7));

const formatUuid = (u: Buffer) => {
  const h = u.toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
};

/**
 * Every file's bytes, hashed for the UUID: one file system with a byte of a file changed in
 * place is not the one this writer makes of its files (remaster/outputs/user-data.ts relies on it).
 */
function fileDataDigest(nodes: readonly Node[]): Buffer {
  const h = createHash("sha256");
  const piece = Buffer.allocUnsafe(1 << 20);
  for (const n of nodes) {
    if (n.kind !== "file" || !n.entry.size) continue;
    const src = runSource(n.entry, 0, n.entry.size);
    try {
      for (const p of borrowedPieces(src, piece)) h.update(p);
    } finally {
      src.close();
    }
  }
  return h.digest();
}

/**
 * `length` bytes of an entry's content from `offset`, opened when first read and closed once
 * its end has been read, so a file system of thousands of files holds one open at a time.
 */
function runSource(e: Entry, offset: number, length: number): ByteSource {
  let src: ByteSource | undefined;
  const open = () => {
    if (!src) {
      src = openContent(e);
      if (src.size !== e.size)
        throw new FormatError("ext2", `'${printable(e.path)}' is ${src.size} bytes, not the ${e.size} its entry says`);
    }
    return src;
  };
  const done = (o: number, n: number) => {
    if (o + n >= length) {
      src?.close();
      src = undefined;
    }
  };
  return {
    size: length,
    read(o, n) {
      const k = Math.max(0, Math.min(n, length - o));
      const out = open().read(offset + o, k);
      if (out.length < k) throw new FormatError("ext2", `'${printable(e.path)}' ended while it was read`);
      done(o, k);
      return out;
    },
    readInto(target, o) {
      const k = Math.max(0, Math.min(target.length, length - o));
      const got = readInto(open(), target.subarray(0, k), offset + o);
      if (got < k) throw new FormatError("ext2", `'${printable(e.path)}' ended while it was read`);
      done(o, k);
      return got;
    },
    close: () => {
      src?.close();
      src = undefined;
    },
  };
}
