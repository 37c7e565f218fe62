// squashfs 4.0 writer (reader.ts reads it): what mksquashfs -comp gzip -no-xattrs makes, from
// Entries, byte-identical for the same input. Layout: superblock, file data (full blocks of
// each file in turn, tails packed into shared fragment blocks), inode table, directory table,
// fragment table, id table, padding to 4 KiB. File data is read a block at a time from each
// entry's source and written at once, so memory is a block window, not the image; duplicate
// files are written once (their blocks are rewound and the first copy's reused); a block of
// zeros is a sparse block (no bytes); a block that does not shrink is stored as it is.
import { createHash } from "node:crypto";
import { closeSync, ftruncateSync, openSync, writeSync } from "node:fs";
import { FormatError } from "../../errors.js";
import { giveBuffer, takeBuffer } from "../../io/buffer-pool.js";
import { readInto } from "../../io/byte-source.js";
import type { Entry } from "../../tree/entry.js";
import { printable } from "../../tree/entry.js";
import { inodeOf, inodeTree, type InodeNode } from "../../tree/inode-tree.js";
import { reproducible } from "../../tree/reproducible.js";
import type { WriteOptions } from "../codec.js";
import { defaultThreads } from "../gzip/writer.js";
import { deflateBlock, deflatePool } from "./deflate.js";
import { METADATA_SIZE, metadataWriter, type MetadataWriter } from "./metadata-writer.js";
import { SUPERBLOCK_SIZE } from "./superblock.js";

export interface SquashfsOptions extends WriteOptions {
  /** 4 KiB (Tiny Core's) by default; a power of two from 4 KiB to 1 MiB. */
  blockSize?: number;
  /** Worker threads compressing data blocks: by default one per core from 4 MiB of data, none below. */
  threads?: number;
}

const MAGIC = 0x73717368;
const GZIP = 1;
const NONE = 0xffffffffffffffffn;
const NO_FRAGMENT = 0xffffffff;
const NO_XATTR = 0xffffffff;
const STORED_BLOCK = 1 << 24;
const FLAG_DUPLICATES = 0x0040;
const FLAG_NO_XATTRS = 0x0200;
const PAD = 4096;
const MAX_NAME = 256;

/** Basic inode types; extended ones are these + 7. */
const TYPE = { dir: 1, file: 2, symlink: 3, block: 4, char: 5, fifo: 6, socket: 7 } as const;

interface Node extends InodeNode<Node> {
  number: number;
  /** Where its inode is: (block start in the inode table) << 16 | offset. */
  ref?: { block: number; offset: number };
  data?: FileData;
}

interface FileData {
  start: number;
  sizes: number[];
  fragment: number;
  offset: number;
  sparse: number;
}

/** Writes the image of `entries` to `path` (a new file); returns its size. */
export async function writeSquashfsFile(entries: Iterable<Entry>, path: string, o: SquashfsOptions): Promise<number> {
  const blockSize = o.blockSize ?? 4096;
  if (blockSize < 4096 || blockSize > 1 << 20 || (blockSize & (blockSize - 1)) !== 0)
    throw new RangeError(`squashfs block size must be a power of two from 4096 to 1048576, got ${blockSize}`);
  const root = buildTree(reproducible(entries, o), o.epoch);
  const fd = openSync(path, "wx", 0o644);
  try {
    return await writeImage(fd, root, { blockSize, epoch: o.epoch, threads: o.threads });
  } finally {
    closeSync(fd);
  }
}

/** The directory tree of the entries: implicit parents added, hard links resolved to their inode. */
const buildTree = (entries: readonly Entry[], epoch: number): Node =>
  inodeTree<Node>(entries, {
    format: "squashfs",
    epoch,
    maxName: MAX_NAME - 1,
    make: (entry, kind, name, parent) => ({
      entry,
      kind,
      name,
      children: [],
      ...(parent ? { parent } : {}),
      number: 0,
      links: 1,
    }),
  }).root;

async function writeImage(
  fd: number,
  root: Node,
  o: { blockSize: number; epoch: number; threads: number | undefined },
): Promise<number> {
  // Inode numbers: breadth first from the root, so a directory's entries are numbered together.
  const inodes: Node[] = [];
  for (let queue = [root]; queue.length;) {
    const next: Node[] = [];
    for (const n of queue) {
      if (inodeOf(n) !== n) continue;
      n.number = inodes.length + 1;
      inodes.push(n);
      next.push(...n.children);
    }
    queue = next;
  }
  // uid and gid indexes, in order of first use.
  const ids: number[] = [];
  const idIndex = (id: number) => {
    const at = ids.indexOf(id);
    if (at >= 0) return at;
    if (ids.length >= 65535) throw new FormatError("squashfs", "more than 65535 distinct uids and gids");
    return ids.push(id) - 1;
  };
  for (const n of inodes) {
    idIndex(n.entry.uid);
    idIndex(n.entry.gid);
  }

  // File data, then fragments, from just after the superblock.
  let pos = SUPERBLOCK_SIZE;
  const write = (b: Buffer) => {
    for (let off = 0; off < b.length;) off += writeSync(fd, b, off, b.length - off, pos + off);
    pos += b.length;
  };
  const compress = (b: Buffer): Packed => smaller(b, deflateBlock(b));
  const fragments: { start: number; size: number }[] = [];
  let fragment = Buffer.alloc(0);
  const flushFragment = () => {
    if (!fragment.length) return;
    const c = compress(fragment);
    fragments.push({ start: pos, size: c.bytes.length | (c.stored ? STORED_BLOCK : 0) });
    write(c.bytes);
    fragment = Buffer.alloc(0);
  };
  const seen = new Map<string, FileData>();
  // The data blocks of a large image go to worker threads; a small one is done before they start.
  const files = inodes.filter((x) => x.kind === "file");
  const dataBytes = files.reduce((sum, n) => sum + n.entry.size, 0);
  const threads = o.threads ?? (dataBytes >= POOL_FROM ? defaultThreads() : 0);
  const pool = threads > 0 ? deflatePool(threads) : undefined;
  const compressAsync = async (b: Buffer): Promise<Packed> => {
    const r = smaller(b, pool ? await pool.deflate(b) : deflateBlock(b));
    // Stored: a copy, since the block's buffer goes back to the pool once this settles.
    return r.stored ? { bytes: Buffer.from(b), stored: true } : r;
  };
  try {
    for (const n of files) {
      n.data = await writeFileData(n.entry, {
        blockSize: o.blockSize,
        position: () => pos,
        rewind: (to) => void (pos = to),
        compressAsync,
        seen,
        fragment: (tail) => {
          if (fragment.length + tail.length > o.blockSize) flushFragment();
          const at = { fragment: fragments.length, offset: fragment.length };
          fragment = Buffer.concat([fragment, tail]);
          return at;
        },
        writeRaw: write,
      });
    }
  } finally {
    await pool?.close();
  }
  flushFragment();

  // Inodes of everything but directories, then directories children first (a directory's
  // listing needs its entries' inode positions, its inode the listing's position).
  const inodeTable = metadataWriter();
  const dirTable = metadataWriter();
  const rootParent = inodes.length + 1;
  for (const n of inodes) if (n.kind !== "dir") writeInode(inodeTable, n, idIndex, rootParent);
  const writeDir = (d: Node) => {
    for (const c of d.children) if (c.kind === "dir" && inodeOf(c) === c) writeDir(c);
    const listing = writeListing(dirTable, d);
    writeInode(inodeTable, d, idIndex, rootParent, listing);
  };
  writeDir(root);
  const inodeStart = pos;
  write(inodeTable.finish());
  const dirStart = pos;
  write(dirTable.finish());

  // Fragment and id tables: entries in metadata blocks, then an index of those blocks.
  const fragmentStart = writeIndexedTable(
    fragments.map((f) => {
      const b = Buffer.alloc(16);
      b.writeBigUInt64LE(BigInt(f.start), 0);
      b.writeUInt32LE(f.size >>> 0, 8);
      return b;
    }),
    () => pos,
    write,
  );
  const idStart = writeIndexedTable(
    ids.map((id) => {
      const b = Buffer.alloc(4);
      b.writeUInt32LE(id);
      return b;
    }),
    () => pos,
    write,
  );
  const bytesUsed = pos;
  const padded = Math.ceil(bytesUsed / PAD) * PAD;
  if (padded > bytesUsed) write(Buffer.alloc(padded - bytesUsed));
  ftruncateSync(fd, padded);

  const sb = Buffer.alloc(SUPERBLOCK_SIZE);
  sb.writeUInt32LE(MAGIC, 0);
  sb.writeUInt32LE(inodes.length, 4);
  sb.writeUInt32LE(o.epoch >>> 0, 8);
  sb.writeUInt32LE(o.blockSize, 12);
  sb.writeUInt32LE(fragments.length, 16);
  sb.writeUInt16LE(GZIP, 20);
  sb.writeUInt16LE(Math.log2(o.blockSize), 22);
  sb.writeUInt16LE(FLAG_DUPLICATES | FLAG_NO_XATTRS, 24);
  sb.writeUInt16LE(ids.length, 26);
  sb.writeUInt16LE(4, 28);
  sb.writeUInt16LE(0, 30);
  sb.writeBigUInt64LE(refOf(root), 32);
  sb.writeBigUInt64LE(BigInt(bytesUsed), 40);
  sb.writeBigUInt64LE(BigInt(idStart), 48);
  sb.writeBigUInt64LE(NONE, 56); // no xattrs
  sb.writeBigUInt64LE(BigInt(inodeStart), 64);
  sb.writeBigUInt64LE(BigInt(dirStart), 72);
  sb.writeBigUInt64LE(BigInt(fragmentStart), 80);
  sb.writeBigUInt64LE(NONE, 88); // not exportable (no NFS lookup table)
  writeSync(fd, sb, 0, sb.length, 0);
  return padded;
}

const refOf = (n: Node): bigint => {
  const r = inodeOf(n).ref!;
  return (BigInt(r.block) << 16n) | BigInt(r.offset);
};

interface Packed {
  bytes: Buffer;
  stored: boolean;
}

/** The compressed bytes, or the block as it is when compressing does not shrink it (as mksquashfs does). */
const smaller = (raw: Buffer, packed: Buffer): Packed =>
  packed.length < raw.length ? { bytes: packed, stored: false } : { bytes: raw, stored: true };

/**
 * Blocks in flight to the thread pool: enough to keep every pool thread busy (one per core
 * kept the main thread waiting on each block: 4.2 s instead of 3.9 s for 111 MiB on 2 cores).
 */
const WINDOW = 64;

/** Data bytes from which worker threads pay for their start (about 30 ms each). */
const POOL_FROM = 4 << 20;

interface DataSink {
  blockSize: number;
  position(): number;
  rewind(to: number): void;
  writeRaw(b: Buffer): void;
  /** A copy of the block's bytes when compressing does not shrink it: the block itself is reused. */
  compressAsync(b: Buffer): Promise<Packed>;
  seen: Map<string, FileData>;
  fragment(tail: Buffer): { fragment: number; offset: number };
}

/** One file's blocks and tail, read a block at a time; a duplicate of an earlier file costs nothing. */
async function writeFileData(e: Entry, s: DataSink): Promise<FileData> {
  const size = e.size;
  if (size === 0) return { start: 0, sizes: [], fragment: NO_FRAGMENT, offset: 0, sparse: 0 };
  const src = e.content?.();
  if (!src) throw new FormatError("squashfs", `'${printable(e.path)}' has no content`);
  try {
    if (src.size !== size)
      throw new FormatError("squashfs", `'${printable(e.path)}' is ${src.size} bytes, not the ${size} its entry says`);
    const start = s.position();
    const sizes: number[] = [];
    const hash = createHash("sha256");
    let sparse = 0;
    const full = Math.floor(size / s.blockSize);
    // Blocks are compressed on libuv's thread pool, a bounded window ahead of the one written.
    const window: Promise<Packed | undefined>[] = [];
    const settle = async (keep: number) => {
      while (window.length > keep) {
        const c = await window.shift()!;
        if (!c) {
          sizes.push(0); // a sparse block
          continue;
        }
        sizes.push(c.bytes.length | (c.stored ? STORED_BLOCK : 0));
        s.writeRaw(c.bytes);
      }
    };
    try {
      for (let i = 0; i < full; i++) {
        const block = takeBuffer(s.blockSize);
        const got = readInto(src, block, i * s.blockSize);
        if (got !== s.blockSize) {
          giveBuffer(block);
          throw new FormatError(
            "squashfs",
            `'${printable(e.path)}' ended at ${i * s.blockSize + got} of ${size} bytes while it was read`,
          );
        }
        hash.update(block);
        if (isZero(block)) {
          sparse += s.blockSize;
          giveBuffer(block);
          window.push(Promise.resolve(undefined));
        } else window.push(s.compressAsync(block).finally(() => giveBuffer(block)));
        await settle(WINDOW);
      }
      await settle(0);
    } finally {
      await Promise.allSettled(window);
    }
    const tailSize = size - full * s.blockSize;
    const tail = Buffer.alloc(tailSize);
    if (tailSize && readInto(src, tail, full * s.blockSize) !== tailSize)
      throw new FormatError("squashfs", `'${printable(e.path)}' ended before its ${size} bytes while it was read`);
    hash.update(tail);
    const key = `${size}:${hash.digest("hex")}`;
    const dup = s.seen.get(key);
    if (dup) {
      s.rewind(start);
      return dup;
    }
    const placed = tailSize ? s.fragment(tail) : { fragment: NO_FRAGMENT, offset: 0 };
    const data: FileData = { start: full ? start : 0, sizes, fragment: placed.fragment, offset: placed.offset, sparse };
    s.seen.set(key, data);
    return data;
  } finally {
    src.close();
  }
}

const isZero = (b: Buffer): boolean => {
  for (let i = 0; i < b.length; i += 8) if (b.readBigUInt64LE(i) !== 0n) return false;
  return true;
};

interface Listing {
  block: number;
  offset: number;
  /** Bytes of the listing plus 3 (for . and ..), as the inode records it. */
  size: number;
  index: { index: number; start: number; name: Buffer }[];
}

/**
 * A directory's entries in the directory table: runs of up to 256 entries under a header
 * (their inodes in one metadata block, inode numbers within ±32767 of the header's), a new
 * run and an index entry whenever the listing would pass another 8 KiB, so the kernel can
 * skip to a name in a large directory.
 */
function writeListing(t: MetadataWriter, d: Node): Listing {
  const at = t.position();
  const startAt = t.length;
  const parts: Buffer[] = [];
  let size = 0;
  let sinceIndex = 0;
  let header: { buf: Buffer; count: number; block: number; base: number } | undefined;
  const index: Listing["index"] = [];
  const close = () => {
    if (!header) return;
    header.buf.writeUInt32LE(header.count - 1, 0);
    header.buf.writeUInt32LE(header.block, 4);
    header.buf.writeUInt32LE(header.base, 8);
  };
  for (const c of d.children) {
    const ino = inodeOf(c);
    const name = Buffer.from(c.name);
    const entrySize = 8 + name.length;
    const ref = ino.ref!;
    const newIndex = header !== undefined && sinceIndex + entrySize > METADATA_SIZE;
    if (
      !header ||
      header.count === 256 ||
      header.block !== ref.block ||
      Math.abs(ino.number - header.base) > 32767 ||
      newIndex
    ) {
      close();
      if (newIndex) {
        index.push({ index: size, start: 0, name });
        sinceIndex = 0;
      }
      header = { buf: Buffer.alloc(12), count: 0, block: ref.block, base: ino.number };
      parts.push(header.buf);
      size += 12;
      sinceIndex += 12;
    }
    const e = Buffer.alloc(entrySize);
    e.writeUInt16LE(ref.offset, 0);
    e.writeInt16LE(ino.number - header.base, 2);
    e.writeUInt16LE(TYPE[ino.kind], 4);
    e.writeUInt16LE(name.length - 1, 6);
    name.copy(e, 8);
    parts.push(e);
    size += entrySize;
    sinceIndex += entrySize;
    header.count++;
  }
  close();
  t.append(Buffer.concat(parts));
  for (const i of index) i.start = t.blockStartOf(startAt + i.index);
  return { block: at.block, offset: at.offset, size: size + 3, index };
}

function writeInode(
  t: MetadataWriter,
  n: Node,
  idIndex: (id: number) => number,
  rootParent: number,
  listing?: Listing,
): void {
  const e = n.entry;
  n.ref = t.position();
  const head = (type: number) => {
    const b = Buffer.alloc(16);
    b.writeUInt16LE(type, 0);
    b.writeUInt16LE(e.mode & 0o7777, 2);
    b.writeUInt16LE(idIndex(e.uid), 4);
    b.writeUInt16LE(idIndex(e.gid), 6);
    b.writeUInt32LE(Math.max(0, e.mtime) >>> 0, 8);
    b.writeUInt32LE(n.number, 12);
    return b;
  };
  switch (n.kind) {
    case "dir": {
      const l = listing!;
      const subdirs = n.children.filter((c) => c.kind === "dir" && inodeOf(c) === c).length;
      const parent = n.parent ? n.parent.number : rootParent; // the root's parent: one past the last inode
      if (!l.index.length && l.size <= 0xffff) {
        const b = Buffer.alloc(16);
        b.writeUInt32LE(l.block, 0);
        b.writeUInt32LE(2 + subdirs, 4);
        b.writeUInt16LE(l.size, 8);
        b.writeUInt16LE(l.offset, 10);
        b.writeUInt32LE(parent, 12);
        t.append(Buffer.concat([head(TYPE.dir), b]));
      } else {
        const b = Buffer.alloc(24);
        b.writeUInt32LE(2 + subdirs, 0);
        b.writeUInt32LE(l.size, 4);
        b.writeUInt32LE(l.block, 8);
        b.writeUInt32LE(parent, 12);
        b.writeUInt16LE(l.index.length, 16);
        b.writeUInt16LE(l.offset, 18);
        b.writeUInt32LE(NO_XATTR, 20);
        const idx = l.index.map((i) => {
          const x = Buffer.alloc(12 + i.name.length);
          x.writeUInt32LE(i.index, 0);
          x.writeUInt32LE(i.start, 4);
          x.writeUInt32LE(i.name.length - 1, 8);
          i.name.copy(x, 12);
          return x;
        });
        t.append(Buffer.concat([head(TYPE.dir + 7), b, ...idx]));
      }
      return;
    }
    case "file": {
      const d = n.data!;
      const sizes = Buffer.alloc(4 * d.sizes.length);
      d.sizes.forEach((s, i) => sizes.writeUInt32LE(s >>> 0, 4 * i));
      if (n.links === 1 && e.size < 2 ** 32 && d.start < 2 ** 32 && d.sparse === 0) {
        const b = Buffer.alloc(16);
        b.writeUInt32LE(d.start, 0);
        b.writeUInt32LE(d.fragment >>> 0, 4);
        b.writeUInt32LE(d.offset, 8);
        b.writeUInt32LE(e.size, 12);
        t.append(Buffer.concat([head(TYPE.file), b, sizes]));
      } else {
        const b = Buffer.alloc(40);
        b.writeBigUInt64LE(BigInt(d.start), 0);
        b.writeBigUInt64LE(BigInt(e.size), 8);
        b.writeBigUInt64LE(BigInt(d.sparse), 16);
        b.writeUInt32LE(n.links, 24);
        b.writeUInt32LE(d.fragment >>> 0, 28);
        b.writeUInt32LE(d.offset, 32);
        b.writeUInt32LE(NO_XATTR, 36);
        t.append(Buffer.concat([head(TYPE.file + 7), b, sizes]));
      }
      return;
    }
    case "symlink": {
      const target = Buffer.from(e.linkTarget ?? "");
      const b = Buffer.alloc(8);
      b.writeUInt32LE(n.links, 0);
      b.writeUInt32LE(target.length, 4);
      t.append(Buffer.concat([head(TYPE.symlink), b, target]));
      return;
    }
    case "block":
    case "char": {
      const major = e.rdevMajor ?? 0;
      const minor = e.rdevMinor ?? 0;
      const b = Buffer.alloc(8);
      b.writeUInt32LE(n.links, 0);
      b.writeUInt32LE(((minor & 0xff) | (major << 8) | ((minor & ~0xff) << 12)) >>> 0, 4);
      t.append(Buffer.concat([head(TYPE[n.kind]), b]));
      return;
    }
    default: {
      const b = Buffer.alloc(4);
      b.writeUInt32LE(n.links, 0);
      t.append(Buffer.concat([head(TYPE[n.kind]), b]));
    }
  }
}

/** Entries in metadata blocks, then the index of those blocks' positions; returns the index's position. */
function writeIndexedTable(items: readonly Buffer[], position: () => number, write: (b: Buffer) => void): number {
  const t = metadataWriter();
  const base = position();
  for (const item of items) t.append(item);
  const total = t.length;
  write(t.finish());
  const index = Buffer.alloc(8 * Math.ceil(total / METADATA_SIZE));
  for (let k = 0; k < index.length / 8; k++)
    index.writeBigUInt64LE(BigInt(base + t.blockStartOf(k * METADATA_SIZE)), 8 * k);
  const at = position();
  write(index);
  return at;
}
