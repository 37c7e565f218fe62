// ext2's fixed layout, shared by the writer and the reader: the superblock (1024 bytes at byte
// 1024), 32-byte group descriptors, inodes (their mode's type bits, 15 block pointers: 12
// direct, then single, double and triple indirect) and directory entries (inode, record
// length, name length, file type, name padded to 4 bytes).
export const SUPERBLOCK_OFFSET = 1024;
export const SUPERBLOCK_SIZE = 1024;
export const MAGIC = 0xef53;
export const ROOT_INODE = 2;
export const LOST_AND_FOUND_INODE = 11;
export const FIRST_INODE = 11;
export const GROUP_DESC_SIZE = 32;
export const DIRECT_BLOCKS = 12;
/** i_block holds a symlink target shorter than this ("fast" symlinks). */
export const FAST_SYMLINK_MAX = 60;

export const FEATURE = {
  /** incompat: directory entries record the file type. */
  filetype: 0x0002,
  /** incompat features a reader of block-mapped ext2 may meet and still read. */
  readableIncompat: 0x0002 | 0x0200 /* flex_bg: only moves the tables */,
  /** ro_compat: superblock backups only in groups 0, 1 and powers of 3, 5 and 7. */
  sparseSuper: 0x0001,
  /** ro_compat: files may be 2 GiB or larger (i_size_high). */
  largeFile: 0x0002,
} as const;

/** Directory entry file types (the filetype feature). */
export const DIRENT_TYPE = { file: 1, dir: 2, char: 3, block: 4, fifo: 5, socket: 6, symlink: 7 } as const;

export interface Superblock {
  inodesCount: number;
  blocksCount: number;
  freeBlocks: number;
  freeInodes: number;
  firstDataBlock: number;
  blockSize: number;
  blocksPerGroup: number;
  inodesPerGroup: number;
  inodeSize: number;
  incompat: number;
  roCompat: number;
  uuid: Buffer;
  label: string;
  /** When it was made (s_mkfs_time): mkbundle writes its epoch there. */
  made: number;
}

/** Whether group `g` holds a superblock backup under sparse_super (0, 1, and powers of 3, 5, 7). */
export function hasSuperBackup(g: number): boolean {
  if (g <= 1) return true;
  for (const base of [3, 5, 7]) {
    let p = base;
    while (p < g) p *= base;
    if (p === g) return true;
  }
  return false;
}

/** A directory entry's length for a name of `n` bytes: 8 bytes of header, the name, padding to 4. */
export const direntSize = (n: number): number => (8 + n + 3) & ~3;

/** Linux's encoding of a device number into i_block: the old 16-bit one when both parts fit in 8 bits. */
export function encodeDevice(major: number, minor: number): { old: number; new: number } {
  if (major < 256 && minor < 256) return { old: (major << 8) | minor, new: 0 };
  return { old: 0, new: ((minor & 0xff) | (major << 8) | ((minor & ~0xff) << 12)) >>> 0 };
}

export function decodeDevice(old: number, nw: number): { major: number; minor: number } {
  if (old) return { major: (old >> 8) & 0xff, minor: old & 0xff };
  return { major: (nw & 0xfff00) >> 8, minor: (nw & 0xff) | ((nw >> 12) & 0xfff00) };
}
