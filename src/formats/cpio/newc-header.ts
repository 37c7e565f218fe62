// The newc (070701) and crc (070702) header: 110 ASCII bytes, thirteen 8-digit hex fields.
import { FormatError } from "../../errors.js";

export const HEADER_SIZE = 110;
export const MAGIC_NEWC = "070701";
export const MAGIC_CRC = "070702";
export const TRAILER = "TRAILER!!!";

export interface NewcHeader {
  magic: string;
  ino: number;
  mode: number;
  uid: number;
  gid: number;
  nlink: number;
  mtime: number;
  filesize: number;
  devmajor: number;
  devminor: number;
  rdevmajor: number;
  rdevminor: number;
  namesize: number;
  check: number;
}

const FIELDS = [
  "ino",
  "mode",
  "uid",
  "gid",
  "nlink",
  "mtime",
  "filesize",
  "devmajor",
  "devminor",
  "rdevmajor",
  "rdevminor",
  "namesize",
  "check",
] as const;

export function decodeHeader(buf: Buffer, at: number, offset: number): NewcHeader {
  // "07070" then "1" or "2", compared as bytes: no string per header.
  const crc = buf[at + 5] === 0x32;
  const ok =
    buf[at] === 0x30 && buf[at + 1] === 0x37 && buf[at + 2] === 0x30 && buf[at + 3] === 0x37 && buf[at + 4] === 0x30;
  const magic = crc ? MAGIC_CRC : MAGIC_NEWC;
  if (!ok || (!crc && buf[at + 5] !== 0x31)) {
    const text = buf.toString("latin1", at, at + 6);
    throw new FormatError(
      "cpio",
      `bad magic '${text.replace(/[^\x20-\x7e]/g, "?")}' at offset ${offset} (expected 070701 or 070702)`,
    );
  }
  const field = (i: number): number => {
    const s = at + 6 + i * 8;
    let v = 0;
    for (let j = s; j < s + 8; j++) {
      const d = HEX[buf[j]!]!;
      if (d < 0) {
        const text = buf.toString("latin1", s, s + 8);
        throw new FormatError(
          "cpio",
          `field ${FIELDS[i]} '${text.replace(/[^\x20-\x7e]/g, "?")}' is not hexadecimal at offset ${offset}`,
        );
      }
      v = v * 16 + d;
    }
    return v;
  };
  // One object literal: every header has the same shape.
  return {
    magic,
    ino: field(0),
    mode: field(1),
    uid: field(2),
    gid: field(3),
    nlink: field(4),
    mtime: field(5),
    filesize: field(6),
    devmajor: field(7),
    devminor: field(8),
    rdevmajor: field(9),
    rdevminor: field(10),
    namesize: field(11),
    check: field(12),
  };
}

/** Each byte's value as a hex digit, or -1. */
const HEX = Int8Array.from({ length: 256 }, (_, b) => {
  const c = String.fromCharCode(b);
  return /[0-9a-fA-F]/.test(c) ? parseInt(c, 16) : -1;
});

export function encodeHeader(h: Omit<NewcHeader, "magic">): string {
  let s = MAGIC_NEWC;
  for (const f of FIELDS) s += h[f].toString(16).padStart(8, "0");
  return s;
}

export const pad4 = (n: number): number => (4 - (n % 4)) % 4;
