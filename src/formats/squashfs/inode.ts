// Inode records, basic and extended. Types 1-7 basic, 8-14 extended.
import { type EntryType } from "../../tree/entry.js";
import { FormatError } from "../../errors.js";
import type { MetadataCursor } from "./metadata.js";

export interface Inode {
  type: Exclude<EntryType, "hardlink">;
  mode: number;
  uidIndex: number;
  gidIndex: number;
  mtime: number;
  number: number;
  // directories
  dirBlock?: number;
  dirOffset?: number;
  dirSize?: number;
  // files
  blocksStart?: number;
  fileSize?: number;
  fragment?: number; // 0xffffffff: none
  fragmentOffset?: number;
  blockSizes?: number[];
  // symlinks
  target?: string;
  // devices
  rdevMajor?: number;
  rdevMinor?: number;
}

const TYPES: Record<number, Inode["type"]> = {
  1: "dir",
  2: "file",
  3: "symlink",
  4: "block",
  5: "char",
  6: "fifo",
  7: "socket",
};
export const NO_FRAGMENT = 0xffffffff;
const MAX_SYMLINK = 4096;

export function readInode(c: MetadataCursor, blockSize: number, imageSize: number): Inode {
  const h = c.take(16);
  const rawType = h.readUInt16LE(0);
  const basic = rawType > 7 ? rawType - 7 : rawType;
  const type = TYPES[basic];
  if (!type || rawType > 14) throw new FormatError("squashfs", `unknown inode type ${rawType}`);
  const extended = rawType > 7;
  const inode: Inode = {
    type,
    mode: h.readUInt16LE(2) & 0o7777,
    uidIndex: h.readUInt16LE(4),
    gidIndex: h.readUInt16LE(6),
    mtime: h.readUInt32LE(8),
    number: h.readUInt32LE(12),
  };
  switch (type) {
    case "dir": {
      if (!extended) {
        const b = c.take(16);
        [inode.dirBlock, inode.dirSize, inode.dirOffset] = [b.readUInt32LE(0), b.readUInt16LE(8), b.readUInt16LE(10)];
      } else {
        const b = c.take(24);
        [inode.dirSize, inode.dirBlock, inode.dirOffset] = [b.readUInt32LE(4), b.readUInt32LE(8), b.readUInt16LE(18)];
        // The directory index that follows is only a lookup accelerator; listing does not need it.
      }
      break;
    }
    case "file": {
      let fileSize: number;
      if (!extended) {
        const b = c.take(16);
        [inode.blocksStart, inode.fragment, inode.fragmentOffset, fileSize] = [
          b.readUInt32LE(0),
          b.readUInt32LE(4),
          b.readUInt32LE(8),
          b.readUInt32LE(12),
        ];
      } else {
        const b = c.take(40);
        const start = b.readBigUInt64LE(0);
        const size = b.readBigUInt64LE(8);
        if (size > BigInt(Number.MAX_SAFE_INTEGER) || start > BigInt(imageSize))
          throw new FormatError("squashfs", `inode ${inode.number}: file size or start out of range`);
        [inode.blocksStart, fileSize, inode.fragment, inode.fragmentOffset] = [
          Number(start),
          Number(size),
          b.readUInt32LE(28),
          b.readUInt32LE(32),
        ];
      }
      inode.fileSize = fileSize;
      const full = inode.fragment === NO_FRAGMENT ? Math.ceil(fileSize / blockSize) : Math.floor(fileSize / blockSize);
      // Each block has 4 bytes of block list in the (compressed) inode table; zlib packs at most ~1032:1.
      if (full * 4 > imageSize * 1032)
        throw new FormatError(
          "squashfs",
          `inode ${inode.number}: ${full} blocks for ${fileSize} bytes is impossible in a ${imageSize}-byte image`,
        );
      const list = c.take(full * 4);
      inode.blockSizes = Array.from({ length: full }, (_, i) => list.readUInt32LE(i * 4));
      break;
    }
    case "symlink": {
      const b = c.take(8);
      const size = b.readUInt32LE(4);
      if (size > MAX_SYMLINK)
        throw new FormatError("squashfs", `inode ${inode.number}: symlink target of ${size} bytes`);
      inode.target = c.take(size).toString("utf8");
      if (extended) c.take(4);
      break;
    }
    case "block":
    case "char": {
      const b = c.take(8);
      const dev = b.readUInt32LE(4);
      inode.rdevMajor = (dev & 0xfff00) >>> 8;
      inode.rdevMinor = (dev & 0xff) | ((dev >>> 12) & 0xfff00);
      if (extended) c.take(4);
      break;
    }
    default:
      c.take(extended ? 8 : 4);
  }
  return inode;
}
