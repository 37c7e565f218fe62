// The ustar header: 512 bytes of NUL-padded text fields and octal numbers, decoded as GNU
// tar and POSIX pax write them and encoded in the two layouts mkbundle's files have always
// had: "space" (overlay tarballs: 6-digit ids and fields ended by a space, the checksum
// "%06o " with byte 155 NUL) and "nul" (bundle members: GNU tar's fields ended by a NUL,
// the checksum "%06o\0 "). One file holds the byte layout; readers and writers move bytes.
import { FormatError } from "../../errors.js";
import { printable } from "../../tree/entry.js";

export const BLOCK = 512;

export interface TarHeader {
  name: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  /** '0' file, '1' hard link, '2' symlink, '3' char, '4' block, '5' directory, '6' fifo, 'x' pax. */
  typeflag: string;
  linkname: string;
  devmajor: number;
  devminor: number;
}

/** Largest number each field holds in octal (ids: 6 digits; size and mtime: 11). */
export const MAX_OCTAL_ID = 0o777777;
export const MAX_OCTAL_TIME = 0o77777777777;

/** ustar magic at offset 257 ("ustar\0" POSIX or "ustar " GNU). */
export const isTar = (b: Buffer): boolean => b.length >= 263 && b.toString("latin1", 257, 262) === "ustar";

/** How number fields end: overlay tarballs end each with a space, bundle members with a NUL (as GNU tar). */
export type HeaderLayout = "space" | "nul";

const octal = (v: number, digits: number, layout: HeaderLayout = "space"): string =>
  `${v.toString(8).padStart(digits, "0")}${layout === "space" ? " " : "\0"}`;

/** Size: octal when it fits 11 digits, else GNU base-256. */
function writeSize(buf: Buffer, size: number): void {
  if (size.toString(8).length <= 11) buf.write(octal(size, 11), 124, "latin1");
  else {
    buf[124] = 0x80;
    for (let i = 11, n = size; i > 0; i--, n = Math.floor(n / 256)) buf[124 + i] = n & 0xff;
  }
}

/** Sum of the header's bytes with the checksum field counted as spaces. */
export function headerChecksum(h: Buffer): number {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : h[i]!;
  return sum;
}

/**
 * name split into ustar's prefix and name at a '/', or undefined when it cannot be (not
 * ASCII, or no split fits): then the name travels in a pax header.
 */
function splitName(full: string): { prefix: string; name: string } | undefined {
  if (Buffer.byteLength(full) !== full.length) return undefined;
  let [prefix, name] = ["", full];
  while (name.length > 100) {
    const i = name.indexOf("/");
    if (i < 0) return undefined;
    prefix += prefix ? `/${name.slice(0, i)}` : name.slice(0, i);
    name = name.slice(i + 1);
  }
  return prefix.length > 155 ? undefined : { prefix, name };
}

/** One header block; undefined when the names need a pax header (encodePaxEntry). */
export function encodeHeader(h: TarHeader, layout: HeaderLayout = "space"): Buffer | undefined {
  const split = splitName(h.name);
  if (!split || Buffer.byteLength(h.linkname) > 100) return undefined;
  return headerBlock({ ...h, name: split.name }, split.prefix, layout);
}

/** One header block with `h.name` as it is (at most 100 bytes, UTF-8) and `prefix` in the prefix field. */
export function headerBlock(h: TarHeader, prefix = "", layout: HeaderLayout = "space"): Buffer {
  const b = Buffer.alloc(BLOCK);
  const id = layout === "space" ? 6 : 7;
  b.write(h.name, 0, "utf8");
  b.write(octal(h.mode & 0o7777, id, layout), 100, "latin1");
  b.write(octal(h.uid, id, layout), 108, "latin1");
  b.write(octal(h.gid, id, layout), 116, "latin1");
  if (layout === "space") writeSize(b, h.size);
  else b.write(octal(h.size, 11, layout), 124, "latin1");
  b.write(octal(h.mtime, 11, layout), 136, "latin1");
  b.write(h.typeflag, 156, "latin1");
  if (h.linkname) b.write(h.linkname, 157, "utf8");
  b.write("ustar\u000000", 257, "latin1");
  if (layout === "space") {
    b.write(octal(h.devmajor, 6), 329, "latin1");
    b.write(octal(h.devminor, 6), 337, "latin1");
  }
  if (prefix) b.write(prefix, 345, "latin1");
  const sum = headerChecksum(b).toString(8).padStart(6, "0");
  b.write(layout === "space" ? `${sum} ` : `${sum}\0 `, 148, "latin1");
  return b;
}

/** A pax record: "<length> <key>=<value>\n", the length counting itself. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  const len = Buffer.byteLength(body);
  let digits = String(len).length;
  if (len + digits >= 10 ** digits) digits++;
  return `${len + digits}${body}`;
}

/**
 * A header whose names do not fit ustar: a pax extended header ('x') carrying path and
 * linkpath, then the entry's own header under the placeholder name "PaxHeader".
 */
export function encodePaxEntry(h: TarHeader): Buffer[] {
  const records = Buffer.from(
    paxRecord("path", h.name) + (h.linkname ? paxRecord("linkpath", h.linkname) : ""),
    "utf8",
  );
  const placeholder = { ...h, name: "PaxHeader", linkname: h.linkname ? "PaxHeader" : "" };
  return [
    headerBlock({ ...placeholder, size: records.length, typeflag: "x" }, ""),
    records,
    Buffer.alloc(padding(records.length)),
    headerBlock(placeholder, ""),
  ];
}

/** Zero bytes after `size` bytes of data, up to the next block. */
export const padding = (size: number): number => (BLOCK - (size % BLOCK)) % BLOCK;

/** A NUL-terminated text field. */
export function textField(b: Buffer, at: number, len: number): string {
  const end = b.indexOf(0, at);
  return b.toString("utf8", at, end < 0 || end > at + len ? at + len : end);
}

/** A number field: octal, or GNU base-256 when the high bit of the first byte is set; at most `max`. */
export function numberField(b: Buffer, at: number, len: number, what: string, max: number): number {
  let v: number;
  if (b[at]! & 0x80) {
    if (b[at] === 0xff) throw new FormatError("tar", `${what} is negative (base-256)`);
    v = b[at]! & 0x7f;
    for (let i = 1; i < len; i++) {
      v = v * 256 + b[at + i]!;
      if (v > max) throw new FormatError("tar", `${what} is out of range (more than ${max})`);
    }
    return v;
  }
  const text = b
    .toString("latin1", at, at + len)
    .replace(/[\0 ]+$/, "")
    .trim();
  if (text === "") return 0;
  if (!/^[0-7]+$/.test(text)) throw new FormatError("tar", `${what} '${printable(text)}' is not octal`);
  v = parseInt(text, 8);
  if (v > max) throw new FormatError("tar", `${what} ${v} is out of range (more than ${max})`);
  return v;
}

/** pax records: "<len> <key>=<value>\n". */
export function paxRecords(data: Buffer): Map<string, string> {
  const out = new Map<string, string>();
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    const len = space < 0 || space - at > 20 ? NaN : Number(data.toString("latin1", at, space));
    if (!Number.isInteger(len) || len <= 0 || at + len > data.length)
      throw new FormatError("tar", "malformed pax extended header");
    const rec = data.toString("utf8", space + 1, at + len - 1);
    const eq = rec.indexOf("=");
    if (eq > 0) out.set(rec.slice(0, eq), rec.slice(eq + 1));
    at += len;
  }
  return out;
}

/** A pax number: decimal, an mtime may have a fraction (dropped); out of 0..max is refused. */
export function paxNumber(text: string, what: string, max: number): number {
  if (!/^-?\d{1,20}(\.\d{0,20})?$/.test(text))
    throw new FormatError("tar", `pax ${what} '${printable(text)}' is not a number`);
  const v = Math.floor(Number(text));
  if (!(v >= 0 && v <= max)) throw new FormatError("tar", `pax ${what} ${printable(text)} is out of range (0..${max})`);
  return v;
}
