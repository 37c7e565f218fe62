// squashfs 4.0 superblock: 96 bytes, little-endian, at offset 0.
import { FormatError } from "../../errors.js";

const SQUASHFS_MAGIC = 0x73717368; // "hsqs"
export const SUPERBLOCK_SIZE = 96;
export const COMPRESSORS: Record<number, string> = { 1: "gzip", 2: "lzma", 3: "lzo", 4: "xz", 5: "lz4", 6: "zstd" };
export const FLAG_COMPRESSOR_OPTIONS = 0x0400;

export interface Superblock {
  inodeCount: number;
  modificationTime: number;
  blockSize: number;
  fragmentCount: number;
  compression: number;
  blockLog: number;
  flags: number;
  idCount: number;
  rootInodeRef: bigint;
  bytesUsed: number;
  idTableStart: number;
  inodeTableStart: number;
  directoryTableStart: number;
  fragmentTableStart: number;
}

const NONE = 0xffffffffffffffffn;

export const isSquashfs = (b: Buffer): boolean => b.length >= 4 && b.readUInt32LE(0) === SQUASHFS_MAGIC;

/** The superblock of an image of `imageSize` bytes whose first bytes are `buf`. */
export function readSuperblock(buf: Buffer, imageSize = buf.length): Superblock {
  if (buf.length < SUPERBLOCK_SIZE)
    throw new FormatError("squashfs", `truncated: ${buf.length} bytes, the superblock alone is ${SUPERBLOCK_SIZE}`);
  if (!isSquashfs(buf)) throw new FormatError("squashfs", "bad magic (expected hsqs)");
  const major = buf.readUInt16LE(28);
  const minor = buf.readUInt16LE(30);
  if (major !== 4 || minor !== 0)
    throw new FormatError("squashfs", `version ${major}.${minor} is not supported (only 4.0)`);
  const offset = (at: number, what: string, optional = false): number => {
    const v = buf.readBigUInt64LE(at);
    if (optional && v === NONE) return -1;
    if (v > BigInt(imageSize))
      throw new FormatError("squashfs", `${what} at ${v} is past the end of the image (${imageSize} bytes)`);
    return Number(v);
  };
  const sb: Superblock = {
    inodeCount: buf.readUInt32LE(4),
    modificationTime: buf.readUInt32LE(8),
    blockSize: buf.readUInt32LE(12),
    fragmentCount: buf.readUInt32LE(16),
    compression: buf.readUInt16LE(20),
    blockLog: buf.readUInt16LE(22),
    flags: buf.readUInt16LE(24),
    idCount: buf.readUInt16LE(26),
    rootInodeRef: buf.readBigUInt64LE(32),
    bytesUsed: offset(40, "bytes_used"),
    idTableStart: offset(48, "id table"),
    inodeTableStart: offset(64, "inode table"),
    directoryTableStart: offset(72, "directory table"),
    fragmentTableStart: offset(80, "fragment table", true),
  };
  if (
    sb.blockSize < 4096 ||
    sb.blockSize > 1 << 20 ||
    (sb.blockSize & (sb.blockSize - 1)) !== 0 ||
    1 << sb.blockLog !== sb.blockSize
  ) {
    throw new FormatError("squashfs", `block size ${sb.blockSize} (log ${sb.blockLog}) is invalid`);
  }
  if (!COMPRESSORS[sb.compression]) throw new FormatError("squashfs", `unsupported compressor ${sb.compression}`);
  return sb;
}
