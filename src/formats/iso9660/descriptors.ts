// Volume descriptors: primary (1), supplementary/Joliet (2), boot record (0), terminator (255).
import { FormatError } from "../../errors.js";
import { readBoth16, readBoth32, writeBoth16, writeBoth32 } from "./both-endian.js";
import { decodeLongDate, encodeLongDate, UNSET_LONG_DATE } from "./dates.js";

export const SECTOR = 2048;
export const FIRST_DESCRIPTOR_LBA = 16;
export const EL_TORITO_ID = "EL TORITO SPECIFICATION";
const JOLIET_ESCAPES = ["%/@", "%/C", "%/E"];

export interface VolumeInfo {
  systemId: string;
  volumeId: string;
  volumeSetId: string;
  publisherId: string;
  preparerId: string;
  applicationId: string;
  /** Seconds since 1970, from the creation date; undefined when unset. */
  created?: number;
}

export interface VolumeDescriptor {
  type: number;
  lba: number;
  raw: Buffer;
}

export interface PrimaryLike {
  info: VolumeInfo;
  volumeSpaceSize: number;
  rootRecord: Buffer;
  joliet: boolean;
}

const text = (b: Buffer, at: number, len: number) => b.toString("latin1", at, at + len).replace(/[ \0]+$/, "");
const ucs2 = (b: Buffer, at: number, len: number) => decodeUcs2(b.subarray(at, at + len)).replace(/[ \0]+$/, "");

export function decodeUcs2(b: Buffer): string {
  const swapped = Buffer.from(b.subarray(0, b.length & ~1));
  swapped.swap16();
  return swapped.toString("utf16le");
}

export function encodeUcs2(s: string): Buffer {
  const b = Buffer.from(s, "utf16le");
  b.swap16();
  return b;
}

export function decodePrimaryLike(d: VolumeDescriptor): PrimaryLike {
  const b = d.raw;
  const joliet = d.type === 2 && JOLIET_ESCAPES.includes(b.toString("latin1", 88, 91));
  const str = joliet ? ucs2 : text;
  const blockSize = readBoth16(b, 128);
  if (blockSize !== SECTOR)
    throw new FormatError("iso9660", `logical block size ${blockSize} is not supported (only 2048)`);
  const created = decodeLongDate(b, 813);
  return {
    info: {
      systemId: str(b, 8, 32),
      volumeId: str(b, 40, 32),
      volumeSetId: str(b, 190, 128),
      publisherId: str(b, 318, 128),
      preparerId: str(b, 446, 128),
      applicationId: str(b, 574, 128),
      ...(created !== undefined ? { created } : {}),
    },
    volumeSpaceSize: readBoth32(b, 80),
    rootRecord: b.subarray(156, 190),
    joliet,
  };
}

export interface PrimaryFields {
  type: 1 | 2;
  info: VolumeInfo;
  volumeSpaceSize: number;
  pathTableSize: number;
  lPathLba: number;
  mPathLba: number;
  rootRecord: Buffer;
  epoch: number;
}

/** a-characters for the primary; Joliet ids are UCS-2 big-endian. */
export function encodePrimaryLike(f: PrimaryFields): Buffer {
  const b = Buffer.alloc(SECTOR);
  b[0] = f.type;
  b.write("CD001", 1, "latin1");
  b[6] = 1;
  const put = (s: string, at: number, len: number) => {
    if (f.type === 2) {
      const enc = encodeUcs2(s.slice(0, len >> 1));
      const field = Buffer.alloc(len);
      for (let i = 0; i + 2 <= len; i += 2) field.writeUInt16BE(0x0020, i); // pad with UCS-2 spaces
      enc.copy(field);
      field.copy(b, at);
    } else b.write(s.slice(0, len).padEnd(len, " "), at, "latin1");
  };
  put(f.info.systemId, 8, 32);
  put(f.info.volumeId, 40, 32);
  writeBoth32(b, f.volumeSpaceSize, 80);
  if (f.type === 2) b.write("%/E", 88, "latin1"); // Joliet UCS-2 level 3
  writeBoth16(b, 1, 120); // volume set size
  writeBoth16(b, 1, 124); // volume sequence number
  writeBoth16(b, SECTOR, 128);
  writeBoth32(b, f.pathTableSize, 132);
  b.writeUInt32LE(f.lPathLba, 140);
  b.writeUInt32BE(f.mPathLba, 148);
  f.rootRecord.copy(b, 156);
  put(f.info.volumeSetId, 190, 128);
  put(f.info.publisherId, 318, 128);
  put(f.info.preparerId, 446, 128);
  put(f.info.applicationId, 574, 128);
  put("", 702, 37); // copyright file
  put("", 739, 37); // abstract file
  put("", 776, 37); // bibliographic file
  const date = encodeLongDate(f.epoch);
  date.copy(b, 813); // creation
  date.copy(b, 830); // modification
  UNSET_LONG_DATE.copy(b, 847); // expiration
  date.copy(b, 864); // effective
  b[881] = 1; // file structure version
  return b;
}

export function encodeBootRecord(catalogLba: number): Buffer {
  const b = Buffer.alloc(SECTOR);
  b[0] = 0;
  b.write("CD001", 1, "latin1");
  b[6] = 1;
  b.write(EL_TORITO_ID, 7, "latin1");
  b.writeUInt32LE(catalogLba, 71);
  return b;
}

export function encodeTerminator(): Buffer {
  const b = Buffer.alloc(SECTOR);
  b[0] = 255;
  b.write("CD001", 1, "latin1");
  b[6] = 1;
  return b;
}
