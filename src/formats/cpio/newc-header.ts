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
  const magic = buf.toString("latin1", at, at + 6);
  if (magic !== MAGIC_NEWC && magic !== MAGIC_CRC) {
    throw new FormatError(
      "cpio",
      `bad magic '${magic.replace(/[^\x20-\x7e]/g, "?")}' at offset ${offset} (expected 070701 or 070702)`,
    );
  }
  const h = { magic } as NewcHeader;
  FIELDS.forEach((f, i) => {
    const s = at + 6 + i * 8;
    const text = buf.toString("latin1", s, s + 8);
    if (!/^[0-9a-fA-F]{8}$/.test(text))
      throw new FormatError(
        "cpio",
        `field ${f} '${text.replace(/[^\x20-\x7e]/g, "?")}' is not hexadecimal at offset ${offset}`,
      );
    h[f] = parseInt(text, 16);
  });
  return h;
}

export function encodeHeader(h: Omit<NewcHeader, "magic">): string {
  let s = MAGIC_NEWC;
  for (const f of FIELDS) s += h[f].toString(16).padStart(8, "0");
  return s;
}

export const pad4 = (n: number): number => (4 - (n % 4)) % 4;
