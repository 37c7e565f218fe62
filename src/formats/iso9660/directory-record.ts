// Directory records (ECMA-119 9.1).
import { FormatError } from "../../errors.js";
import { readBoth32, writeBoth16, writeBoth32 } from "./both-endian.js";
import { decodeShortDate, encodeShortDate } from "./dates.js";

export const FLAG_DIRECTORY = 0x02;
export const FLAG_ASSOCIATED = 0x04;
export const FLAG_MULTI_EXTENT = 0x80;

export interface DirectoryRecord {
  length: number;
  lba: number;
  size: number;
  mtime: number;
  flags: number;
  /** Raw identifier bytes: 0x00 is ".", 0x01 is "..". */
  name: Buffer;
  systemUse: Buffer;
}

export function decodeRecord(b: Buffer, at: number): DirectoryRecord {
  const length = b[at]!;
  if (length < 34 || at + length > b.length)
    throw new FormatError("iso9660", `directory record of length ${length} at offset ${at} does not fit`);
  const nameLen = b[at + 32]!;
  if (33 + nameLen > length)
    throw new FormatError("iso9660", `directory record name of ${nameLen} bytes overruns its record`);
  const suStart = 33 + nameLen + (nameLen % 2 === 0 ? 1 : 0);
  return {
    length,
    lba: readBoth32(b, at + 2),
    size: readBoth32(b, at + 10),
    mtime: decodeShortDate(b, at + 18),
    flags: b[at + 25]!,
    name: b.subarray(at + 33, at + 33 + nameLen),
    systemUse: b.subarray(at + Math.min(suStart, length), at + length),
  };
}

export interface RecordFields {
  lba: number;
  size: number;
  mtime: number;
  flags: number;
  name: Buffer;
  systemUse?: Buffer;
}

export function recordLength(nameLen: number, suLen: number): number {
  const base = 33 + nameLen + (nameLen % 2 === 0 ? 1 : 0);
  const len = base + suLen;
  return len + (len % 2); // records have even length
}

export function encodeRecord(f: RecordFields): Buffer {
  const su = f.systemUse ?? Buffer.alloc(0);
  const length = recordLength(f.name.length, su.length);
  if (length > 255) throw new FormatError("iso9660", `directory record of ${length} bytes (at most 255)`);
  const b = Buffer.alloc(length);
  b[0] = length;
  writeBoth32(b, f.lba, 2);
  writeBoth32(b, f.size, 10);
  encodeShortDate(f.mtime).copy(b, 18);
  b[25] = f.flags;
  writeBoth16(b, 1, 28); // volume sequence number
  b[32] = f.name.length;
  f.name.copy(b, 33);
  su.copy(b, 33 + f.name.length + (f.name.length % 2 === 0 ? 1 : 0));
  return b;
}
