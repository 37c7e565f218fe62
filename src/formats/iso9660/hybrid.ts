// isohybrid: an MBR in the system area so the ISO also boots from a USB disk. Layout as
// isohybrid and xorriso write it: the boot image's LBA in 512-byte units at 0x1B0, a
// disk id at 0x1B8, one active partition of type 0x17 covering the image, 55 AA. With an
// EFI System Partition image inside the ISO, a second partition of type 0xEF points at it
// (UEFI firmware boots the disk from there) and the first becomes type 0x00, as xorriso's
// UEFI hybrids have it: firmware skips type-0 entries, so the two may overlap. A partition
// appended after the image (a data partition, on a disk image) takes the next entry.
import { createHash } from "node:crypto";
import { SECTOR } from "./descriptors.js";

export const HYBRID_ALIGN = 1024 * 1024;
const HEADS = 64;
const SECTORS = 32;

/** True when bytes 0..431 of a system area hold boot code (an isohybrid MBR). */
export const hasHybridMbr = (systemArea: Buffer): boolean =>
  systemArea.length >= 512 &&
  systemArea[510] === 0x55 &&
  systemArea[511] === 0xaa &&
  systemArea.subarray(0, 432).some((b) => b !== 0);

/** The MBR's partitions that are not empty: entry number (1-4), type, first sector and sectors (of 512 bytes). */
export function mbrPartitions(mbr: Buffer): { number: number; type: number; start: number; count: number }[] {
  if (mbr.length < 512 || mbr[510] !== 0x55 || mbr[511] !== 0xaa) return [];
  return [0, 1, 2, 3]
    .map((i) => ({ number: i + 1, at: 0x1be + 16 * i }))
    .map(({ number, at }) => ({
      number,
      type: mbr[at + 4]!,
      start: mbr.readUInt32LE(at + 8),
      count: mbr.readUInt32LE(at + 12),
    }))
    .filter((p) => p.type !== 0 && p.count > 0);
}

/**
 * The partitions a disk image holds after its ISO (persist:'s data partition): those that
 * start at or past the ISO's last sector and end within the file. Listed by the ISO's
 * reader as files named partitionN.img, so `ls` and `cat` go into them.
 */
export function appendedPartitions(systemArea: Buffer, isoBytes: number, fileBytes: number) {
  return mbrPartitions(systemArea)
    .filter((p) => p.start * 512 >= isoBytes && (p.start + p.count) * 512 <= fileBytes)
    .map((p) => ({ name: `partition${p.number}.img`, offset: p.start * 512, bytes: p.count * 512 }));
}

/** The MBR partition type of a Linux file system: the data partition of a disk image. */
export const LINUX_PARTITION = 0x83;

/** True when the system area's MBR has a partition of type 0xEF (an EFI System Partition). */
export const hasEspPartition = (systemArea: Buffer): boolean => mbrPartitions(systemArea).some((p) => p.type === 0xef);

export function hybridMbr(
  code: Buffer,
  bootImageLba: number,
  imageBytes: number,
  seed: string,
  esp?: { lba: number; bytes: number },
  appended?: { bytes: number; type: number },
): Buffer {
  const mbr = Buffer.alloc(512);
  code.copy(mbr, 0, 0, 432);
  mbr.writeUInt32LE(bootImageLba * (SECTOR / 512), 0x1b0);
  // A disk id derived from the image, not random: the same inputs give the same bytes.
  createHash("sha256").update(seed).digest().copy(mbr, 0x1b8, 0, 4);
  const blocks = imageBytes / 512;
  const p = 0x1be;
  mbr[p] = 0x80;
  chs(0).copy(mbr, p + 1);
  mbr[p + 4] = esp ? 0x00 : 0x17;
  chs(blocks - 1).copy(mbr, p + 5);
  mbr.writeUInt32LE(0, p + 8);
  mbr.writeUInt32LE(blocks, p + 12);
  if (esp) {
    const q = p + 16;
    const start = esp.lba * (SECTOR / 512);
    const count = Math.ceil(esp.bytes / 512);
    chs(start).copy(mbr, q + 1);
    mbr[q + 4] = 0xef;
    chs(start + count - 1).copy(mbr, q + 5);
    mbr.writeUInt32LE(start, q + 8);
    mbr.writeUInt32LE(count, q + 12);
  }
  if (appended) {
    const q = p + (esp ? 32 : 16);
    const count = Math.ceil(appended.bytes / 512);
    chs(blocks).copy(mbr, q + 1);
    mbr[q + 4] = appended.type;
    chs(blocks + count - 1).copy(mbr, q + 5);
    mbr.writeUInt32LE(blocks, q + 8);
    mbr.writeUInt32LE(count, q + 12);
  }
  mbr[510] = 0x55;
  mbr[511] = 0xaa;
  return mbr;
}

function chs(lba: number): Buffer {
  let cyl = Math.floor(lba / (HEADS * SECTORS));
  let head = Math.floor(lba / SECTORS) % HEADS;
  let sector = (lba % SECTORS) + 1;
  if (cyl > 1023) [cyl, head, sector] = [1023, HEADS - 1, SECTORS];
  return Buffer.from([head, sector | ((cyl >> 2) & 0xc0), cyl & 0xff]);
}
