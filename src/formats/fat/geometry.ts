// The shape of a FAT volume: sector and cluster sizes, the FAT type the cluster count
// makes it, where each region starts; and the boot sector (BPB) that records it. The FAT
// type is decided only by the number of clusters (Microsoft's rule, which Linux, mtools and
// UEFI firmware follow), so sizes are kept well clear of the 4085 and 65525 boundaries.
import { FormatError } from "../../errors.js";

export type FatType = 12 | 16 | 32;
export const SECTOR = 512;
const FAT12_MAX = 4084;
const FAT16_MAX = 65524;
/** Distance kept from a type boundary: readers that count one cluster differently still agree. */
const MARGIN = 16;
const FAT32_MAX = 0x0ffffff5;

export interface FatGeometry {
  type: FatType;
  sectorsPerCluster: number;
  reservedSectors: number;
  fatCount: number;
  sectorsPerFat: number;
  /** FAT12/16: entries of the fixed root directory region; 0 on FAT32. */
  rootEntries: number;
  totalSectors: number;
  clusterCount: number;
  /** First sector of the root directory region (FAT12/16) and of cluster 2. */
  rootStart: number;
  dataStart: number;
}

export const clusterBytes = (g: FatGeometry): number => g.sectorsPerCluster * SECTOR;
export const clusterOffset = (g: FatGeometry, cluster: number): number =>
  (g.dataStart + (cluster - 2) * g.sectorsPerCluster) * SECTOR;

const typeForClusters = (count: number): FatType => (count <= FAT12_MAX ? 12 : count <= FAT16_MAX ? 16 : 32);

function fatSectors(type: FatType, clusters: number): number {
  const entries = clusters + 2;
  const bytes = type === 12 ? Math.ceil((entries * 3) / 2) : entries * (type / 8);
  return Math.ceil(bytes / SECTOR);
}

/** A geometry of `type` with this cluster size holding at least `needed` clusters, or undefined. */
function geometryOf(
  type: FatType,
  spc: number,
  needed: number,
  rootEntries: number,
  align: number,
): FatGeometry | undefined {
  const [min, max] =
    type === 12
      ? [1, FAT12_MAX - MARGIN]
      : type === 16
        ? [FAT12_MAX + 1 + MARGIN, FAT16_MAX - MARGIN]
        : [FAT16_MAX + 1 + MARGIN, FAT32_MAX];
  const clusters = Math.max(needed, min);
  if (clusters > max) return undefined;
  const rootSectors = type === 32 ? 0 : Math.ceil((rootEntries * 32) / SECTOR);
  const sectorsPerFat = fatSectors(type, clusters);
  const minReserved = type === 32 ? 32 : 1;
  // Extra reserved sectors put cluster 2 on an `align` boundary (FAT allows any reserved count).
  const reservedSectors = minReserved + ((align - ((minReserved + 2 * sectorsPerFat + rootSectors) % align)) % align);
  const rootStart = reservedSectors + 2 * sectorsPerFat;
  const dataStart = rootStart + rootSectors;
  // Whole 2 KiB sectors, so the image sits on CD sectors: the padding never makes a whole cluster.
  const totalSectors = Math.ceil((dataStart + clusters * spc) / 4) * 4;
  const clusterCount = Math.floor((totalSectors - dataStart) / spc);
  if (typeForClusters(clusterCount) !== type || fatSectors(type, clusterCount) > sectorsPerFat) return undefined;
  return {
    type,
    sectorsPerCluster: spc,
    reservedSectors,
    fatCount: 2,
    sectorsPerFat,
    rootEntries: type === 32 ? 0 : rootEntries,
    totalSectors,
    clusterCount,
    rootStart,
    dataStart,
  };
}

/**
 * The smallest volume that holds the content: `clustersFor(bytes, type)` says how many
 * clusters of that size the files and directories need (FAT32 keeps its root in clusters).
 * FAT12 or FAT16 when they can (what firmware reads most widely on removable media), FAT32
 * beyond; `type` forces one.
 */
export function chooseGeometry(
  clustersFor: (clusterBytes: number, type: FatType) => number,
  rootEntries: number,
  type?: FatType,
  /** Sectors every cluster must start on (4: 2 KiB, a CD sector), or 1. */
  align = 1,
): FatGeometry {
  const root = Math.max(16, Math.ceil(rootEntries / 16) * 16);
  const plans: [FatType, number[]][] = [
    [12, [1, 2, 4, 8]],
    [16, [4, 8, 16, 32, 64]],
    [32, [8, 16, 32, 64]],
  ];
  const sizes: FatGeometry[] = [];
  for (const [t, spcs] of plans) {
    if (type && t !== type) continue;
    for (const spc of (type ? [1, 2, 4, 8, 16, 32, 64] : spcs).filter((n) => n % align === 0)) {
      const g = geometryOf(t, spc, clustersFor(spc * SECTOR, t), root, align);
      if (g) sizes.push(g);
    }
  }
  if (!sizes.length) throw new FormatError("fat", `the content does not fit a FAT${type ?? ""} volume`);
  return sizes.reduce((a, b) => (b.totalSectors < a.totalSectors ? b : a));
}

export interface VolumeIds {
  /** 11 bytes, upper case; "NO NAME" when empty. */
  label: string;
  serial: number;
}

export function encodeBootSector(g: FatGeometry, ids: VolumeIds): Buffer {
  const b = Buffer.alloc(SECTOR);
  const fat32 = g.type === 32;
  // A jump over the BPB to a halt loop: the volume is not meant to boot a BIOS.
  const code = fat32 ? 0x5a : 0x3e;
  b.set([0xeb, code - 2, 0x90], 0);
  b.set([0xf4, 0xeb, 0xfd], code);
  b.write("MKBUNDLE", 3, "latin1");
  b.writeUInt16LE(SECTOR, 11);
  b[13] = g.sectorsPerCluster;
  b.writeUInt16LE(g.reservedSectors, 14);
  b[16] = g.fatCount;
  b.writeUInt16LE(g.rootEntries, 17);
  b.writeUInt16LE(g.totalSectors < 0x10000 && !fat32 ? g.totalSectors : 0, 19);
  b[21] = 0xf8;
  b.writeUInt16LE(fat32 ? 0 : g.sectorsPerFat, 22);
  b.writeUInt16LE(32, 24); // sectors per track
  b.writeUInt16LE(64, 26); // heads
  b.writeUInt32LE(0, 28); // hidden sectors
  b.writeUInt32LE(g.totalSectors < 0x10000 && !fat32 ? 0 : g.totalSectors, 32);
  let ext = 36;
  if (fat32) {
    b.writeUInt32LE(g.sectorsPerFat, 36);
    b.writeUInt16LE(0, 40); // FATs mirrored
    b.writeUInt16LE(0, 42); // version 0.0
    b.writeUInt32LE(2, 44); // root directory cluster
    b.writeUInt16LE(1, 48); // FSInfo sector
    b.writeUInt16LE(6, 50); // backup boot sector
    ext = 64;
  }
  b[ext] = 0x80; // drive number
  b[ext + 2] = 0x29; // extended boot signature: serial, label and type follow
  b.writeUInt32LE(ids.serial >>> 0, ext + 3);
  b.write((ids.label || "NO NAME").padEnd(11, " ").slice(0, 11), ext + 7, "latin1");
  b.write(`FAT${g.type}`.padEnd(8, " "), ext + 18, "latin1");
  b[510] = 0x55;
  b[511] = 0xaa;
  return b;
}

/** FAT32's FSInfo sector: free-cluster count and the next free cluster, as hints. */
export function encodeFsInfo(free: number, nextFree: number): Buffer {
  const b = Buffer.alloc(SECTOR);
  b.writeUInt32LE(0x41615252, 0);
  b.writeUInt32LE(0x61417272, 484);
  b.writeUInt32LE(free, 488);
  b.writeUInt32LE(nextFree, 492);
  b.writeUInt32LE(0xaa550000, 508);
  return b;
}

/** Reads a boot sector back into a geometry, checking every field a reader relies on. */
export function decodeBootSector(
  b: Buffer,
  imageBytes: number,
): FatGeometry & { label: string; serial: number; rootCluster: number } {
  if (b.length < SECTOR) throw new FormatError("fat", "the boot sector is truncated");
  if (b[510] !== 0x55 || b[511] !== 0xaa) throw new FormatError("fat", "no boot sector signature (55 AA)");
  const bytesPerSector = b.readUInt16LE(11);
  if (![512, 1024, 2048, 4096].includes(bytesPerSector))
    throw new FormatError("fat", `${bytesPerSector} bytes per sector is not a FAT sector size`);
  if (bytesPerSector !== SECTOR)
    throw new FormatError("fat", `only 512-byte sectors are read (this volume has ${bytesPerSector})`);
  const spc = b[13]!;
  if (!spc || spc & (spc - 1) || spc > 128)
    throw new FormatError("fat", `${spc} sectors per cluster is not a power of two up to 128`);
  const reservedSectors = b.readUInt16LE(14);
  const fatCount = b[16]!;
  const rootEntries = b.readUInt16LE(17);
  const totalSectors = b.readUInt16LE(19) || b.readUInt32LE(32);
  const sectorsPerFat = b.readUInt16LE(22) || b.readUInt32LE(36);
  if (!reservedSectors || !fatCount || fatCount > 4 || !sectorsPerFat || !totalSectors)
    throw new FormatError(
      "fat",
      "the boot sector's reserved sectors, FAT count, FAT size or total size is 0 or out of range",
    );
  if (totalSectors * SECTOR > imageBytes)
    throw new FormatError("fat", `the boot sector claims ${totalSectors * SECTOR} bytes; the image has ${imageBytes}`);
  const rootStart = reservedSectors + fatCount * sectorsPerFat;
  const dataStart = rootStart + Math.ceil((rootEntries * 32) / SECTOR);
  if (dataStart >= totalSectors) throw new FormatError("fat", "the FATs and root directory leave no room for data");
  const clusterCount = Math.floor((totalSectors - dataStart) / spc);
  const type = typeForClusters(clusterCount);
  if (type === 32 && rootEntries !== 0) throw new FormatError("fat", "a FAT32 volume with a fixed root directory");
  if (type !== 32 && rootEntries === 0) throw new FormatError("fat", `a FAT${type} volume without a root directory`);
  if (fatSectors(type, clusterCount) > sectorsPerFat)
    throw new FormatError("fat", `the FAT (${sectorsPerFat} sectors) cannot map ${clusterCount} clusters`);
  const ext = type === 32 ? 64 : 36;
  const hasIds = b[ext + 2] === 0x29;
  return {
    type,
    sectorsPerCluster: spc,
    reservedSectors,
    fatCount,
    sectorsPerFat,
    rootEntries,
    totalSectors,
    clusterCount,
    rootStart,
    dataStart,
    label: hasIds ? b.toString("latin1", ext + 7, ext + 18).trimEnd() : "",
    serial: hasIds ? b.readUInt32LE(ext + 3) : 0,
    rootCluster: type === 32 ? b.readUInt32LE(44) : 0,
  };
}
