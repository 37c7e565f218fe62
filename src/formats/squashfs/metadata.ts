// Metadata blocks: a 16-bit header (bit 15 = stored uncompressed, low bits = size on disk)
// then at most 8 KiB. Inode and directory tables are read through a cursor over them.
import { FormatError } from "../../errors.js";
import type { ByteSource } from "../../io/byte-source.js";
import { decompressBlock } from "./compression.js";

const METADATA_SIZE = 8192;

export interface MetadataBlock {
  data: Buffer;
  /** Offset of the next block on disk. */
  next: number;
}

export class MetadataReader {
  private cache = new Map<number, MetadataBlock>();
  constructor(
    private readonly image: ByteSource,
    private readonly compression: number,
    private readonly tableEnd: number,
    /** Told of every block decompressed (the cache is bounded by what the reader's budget allows). */
    private readonly visit: (bytes: number, at: number) => void = () => {},
  ) {}

  block(at: number): MetadataBlock {
    let b = this.cache.get(at);
    if (b) return b;
    if (at + 2 > this.tableEnd)
      throw new FormatError("squashfs", `metadata block at ${at} is past the end of its table (${this.tableEnd})`);
    const header = this.image.read(at, 2).readUInt16LE(0);
    const size = header & 0x7fff;
    const stored = (header & 0x8000) !== 0;
    if (size === 0 || size > METADATA_SIZE || at + 2 + size > this.image.size)
      throw new FormatError("squashfs", `metadata block at ${at} has invalid size ${size}`);
    this.visit(METADATA_SIZE, at);
    const raw = this.image.read(at + 2, size);
    b = {
      data: stored ? raw : decompressBlock(this.compression, raw, METADATA_SIZE, `metadata block at ${at}`),
      next: at + 2 + size,
    };
    this.cache.set(at, b);
    return b;
  }

  /** Reads `length` bytes starting at (block, offset), crossing into following blocks. */
  read(blockAt: number, offset: number, length: number): Buffer {
    const out = Buffer.allocUnsafe(length);
    let filled = 0;
    let at = blockAt;
    let off = offset;
    while (filled < length) {
      const b = this.block(at);
      if (off > b.data.length)
        throw new FormatError("squashfs", `offset ${off} is past the end of the metadata block at ${at}`);
      const k = Math.min(b.data.length - off, length - filled);
      b.data.copy(out, filled, off, off + k);
      filled += k;
      off += k;
      if (filled < length) {
        if (b.next <= at) throw new FormatError("squashfs", "metadata blocks loop");
        [at, off] = [b.next, 0];
      }
    }
    return out;
  }

  /** A cursor for sequential reads of variable-size records. */
  cursor(blockAt: number, offset: number): MetadataCursor {
    return new MetadataCursor(this, blockAt, offset);
  }
}

export class MetadataCursor {
  constructor(
    private readonly reader: MetadataReader,
    private blockAt: number,
    private offset: number,
  ) {}

  take(n: number): Buffer {
    const out = this.reader.read(this.blockAt, this.offset, n);
    // Advance: walk whole blocks the read crossed.
    let left = n;
    for (;;) {
      const b = this.reader.block(this.blockAt);
      const room = b.data.length - this.offset;
      if (left < room) {
        this.offset += left;
        break;
      }
      left -= room;
      [this.blockAt, this.offset] = [b.next, 0];
      if (left === 0) break;
    }
    return out;
  }
}

/** Lookup tables (ids, fragments): an array of u64 pointers to metadata blocks at `start`. */
export function readLookupTable(
  image: ByteSource,
  meta: MetadataReader,
  start: number,
  count: number,
  entrySize: number,
  what: string,
): Buffer {
  const bytes = count * entrySize;
  const blocks = Math.ceil(bytes / METADATA_SIZE);
  if (start + blocks * 8 > image.size)
    throw new FormatError("squashfs", `${what} table index at ${start} is past the end of the image`);
  const index = image.read(start, blocks * 8);
  const out: Buffer[] = [];
  for (let i = 0; i < blocks; i++) {
    const ptr = index.readBigUInt64LE(i * 8);
    if (ptr >= BigInt(image.size))
      throw new FormatError("squashfs", `${what} table block ${i} points past the end of the image`);
    out.push(meta.block(Number(ptr)).data);
  }
  const all = Buffer.concat(out);
  if (all.length < bytes)
    throw new FormatError("squashfs", `${what} table is truncated: ${all.length} of ${bytes} bytes`);
  return all.subarray(0, bytes);
}
