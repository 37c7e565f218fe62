// The writing side of metadata blocks (metadata.ts reads them): bytes appended to a table are
// cut into 8 KiB blocks, each zlib-compressed (stored as is when that does not shrink it) behind
// a 16-bit header. A position in the table is (block start on disk, offset in the block), which
// is what inode references and directory locations record.
import { deflateBlock } from "./deflate.js";

export const METADATA_SIZE = 8192;
const STORED = 0x8000;

export interface MetadataWriter {
  /** Where the next byte appended will be: the on-disk start of its block and the offset in it. */
  position(): { block: number; offset: number };
  /** The on-disk start (relative to the table) of the block holding uncompressed byte `at`. */
  blockStartOf(at: number): number;
  /** Uncompressed bytes appended so far. */
  readonly length: number;
  append(bytes: Buffer): void;
  /** The table as written: every block, the last one short. */
  finish(): Buffer;
}

export function metadataWriter(): MetadataWriter {
  const done: Buffer[] = [];
  const starts: number[] = []; // on-disk start of each completed block
  let written = 0; // on-disk bytes of completed blocks
  let pending = Buffer.alloc(0);
  let total = 0;
  const flush = (chunk: Buffer) => {
    const packed = deflateBlock(chunk);
    const stored = packed.length >= chunk.length;
    const body = stored ? chunk : packed;
    const header = Buffer.alloc(2);
    header.writeUInt16LE(body.length | (stored ? STORED : 0));
    starts.push(written);
    done.push(header, body);
    written += 2 + body.length;
  };
  return {
    position: () => ({ block: written, offset: pending.length }),
    blockStartOf(at) {
      const k = Math.floor(at / METADATA_SIZE);
      return k < starts.length ? starts[k]! : written;
    },
    get length() {
      return total;
    },
    append(bytes) {
      total += bytes.length;
      pending = pending.length ? Buffer.concat([pending, bytes]) : Buffer.from(bytes);
      while (pending.length >= METADATA_SIZE) {
        flush(pending.subarray(0, METADATA_SIZE));
        pending = pending.subarray(METADATA_SIZE);
      }
    },
    finish() {
      if (pending.length) flush(pending);
      pending = Buffer.alloc(0);
      return Buffer.concat(done);
    },
  };
}
