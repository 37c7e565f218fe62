// El Torito: the boot catalog (validation entry, default entry, and section entries for
// other platforms such as UEFI) and the boot-info-table that isolinux expects patched into
// its image.
import { FormatError } from "../../errors.js";

export interface BootInfo {
  platform: number; // 0 x86 BIOS
  bootable: boolean;
  mediaType: number; // 0 no emulation
  loadSegment: number; // 0 means the BIOS default 0x7C0
  systemType: number;
  sectorCount: number; // 512-byte virtual sectors loaded
  loadRba: number; // LBA of the boot image
  /** Path of the boot image inside the ISO, when a directory record points at loadRba. */
  imagePath?: string;
  catalogLba: number;
  catalogPath?: string;
  /** Section entries after the default one: e.g. platform 0xEF, an EFI System Partition image. */
  sections: SectionEntry[];
}

export interface SectionEntry {
  platform: number;
  sectorCount: number;
  loadRba: number;
  imagePath?: string;
}

export const PLATFORM_EFI = 0xef;
const HEADER_MORE = 0x90;
const HEADER_FINAL = 0x91;
const BOOTABLE = 0x88;
/** 512-byte sectors an entry can count; larger images are given as 0 ("to the end of the volume", as EDK2 reads it). */
const MAX_SECTOR_COUNT = 0xffff;

export const sectionSectorCount = (bytes: number): number => {
  const n = Math.ceil(bytes / 512);
  return n <= MAX_SECTOR_COUNT ? n : 0;
};

export function decodeCatalog(b: Buffer, catalogLba: number): BootInfo {
  if (b.length < 64) throw new FormatError("iso9660", "El Torito boot catalog is truncated");
  if (b[0] !== 1 || b[30] !== 0x55 || b[31] !== 0xaa)
    throw new FormatError("iso9660", "El Torito validation entry is malformed (header id 1 and key 55 AA expected)");
  let sum = 0;
  for (let i = 0; i < 32; i += 2) sum = (sum + b.readUInt16LE(i)) & 0xffff;
  if (sum !== 0) throw new FormatError("iso9660", "El Torito validation entry checksum does not add up to 0");
  // Section headers follow the default entry, each with its platform and entry count; the
  // catalog is one sector, so the walk ends there whatever the counts say.
  const sections: SectionEntry[] = [];
  const end = Math.min(b.length, 2048);
  for (let at = 64; at + 32 <= end;) {
    const header = b[at]!;
    if (header !== HEADER_MORE && header !== HEADER_FINAL) break;
    const platform = b[at + 1]!;
    let left = b.readUInt16LE(at + 2);
    for (at += 32; left > 0 && at + 32 <= end; at += 32) {
      if (b[at] === 0x44) continue; // an extension entry continues the one before it
      left--;
      if (b[at] === BOOTABLE)
        sections.push({ platform, sectorCount: b.readUInt16LE(at + 6), loadRba: b.readUInt32LE(at + 8) });
    }
    if (header === HEADER_FINAL) break;
  }
  return {
    sections,
    platform: b[1]!,
    bootable: b[32] === BOOTABLE,
    mediaType: b[33]! & 0x0f,
    loadSegment: b.readUInt16LE(34),
    systemType: b[36]!,
    sectorCount: b.readUInt16LE(38),
    loadRba: b.readUInt32LE(40),
    catalogLba,
  };
}

export function encodeCatalog(
  boot: Pick<BootInfo, "platform" | "mediaType" | "loadSegment" | "systemType" | "sectorCount" | "loadRba">,
  sections: readonly SectionEntry[] = [],
): Buffer {
  const b = Buffer.alloc(2048);
  b[0] = 1; // header id
  b[1] = boot.platform;
  b[30] = 0x55;
  b[31] = 0xaa;
  let sum = 0;
  for (let i = 0; i < 32; i += 2) sum = (sum + b.readUInt16LE(i)) & 0xffff;
  b.writeUInt16LE((0x10000 - sum) & 0xffff, 28);
  b[32] = 0x88; // bootable
  b[33] = boot.mediaType;
  b.writeUInt16LE(boot.loadSegment, 34);
  b[36] = boot.systemType;
  b.writeUInt16LE(boot.sectorCount, 38);
  b.writeUInt32LE(boot.loadRba, 40);
  // One section header per entry, the last marked final: what xorriso writes for -eltorito-alt-boot.
  sections.forEach((sec, i) => {
    const at = 64 + i * 64;
    if (at + 64 > 2048) throw new FormatError("iso9660", "too many El Torito boot entries for one catalog sector");
    b[at] = i === sections.length - 1 ? HEADER_FINAL : HEADER_MORE;
    b[at + 1] = sec.platform;
    b.writeUInt16LE(1, at + 2);
    b[at + 32] = BOOTABLE;
    b[at + 33] = 0; // no emulation
    b.writeUInt16LE(sec.sectorCount, at + 38);
    b.writeUInt32LE(sec.loadRba, at + 40);
  });
  return b;
}

/**
 * The boot-info-table at offset 8 of the boot image: PVD LBA, image LBA, image length and
 * the sum of the image's 32-bit little-endian words from byte 64 to the end.
 */
export function patchBootInfoTable(image: Buffer, pvdLba: number, imageLba: number): Buffer {
  if (image.length < 64)
    throw new FormatError("iso9660", `boot image of ${image.length} bytes is too small for a boot-info-table`);
  const out = Buffer.from(image);
  let sum = 0;
  for (let i = 64; i < out.length; i += 4) {
    const word =
      i + 4 <= out.length ? out.readUInt32LE(i) : Buffer.concat([out.subarray(i), Buffer.alloc(4)]).readUInt32LE(0);
    sum = (sum + word) >>> 0;
  }
  out.fill(0, 8, 64);
  out.writeUInt32LE(pvdLba, 8);
  out.writeUInt32LE(imageLba, 12);
  out.writeUInt32LE(out.length, 16);
  out.writeUInt32LE(sum, 20);
  return out;
}
