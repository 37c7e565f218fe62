// SUSP (System Use Sharing Protocol) entries and the Rock Ridge (RRIP 1.10) ones we
// read and write: SP, CE, ER, PX, PN, SL, NM, TF, and CL/RE/PL for relocated directories.
import { typeBits, typeFromMode, type EntryType } from "../../tree/entry.js";
import { FormatError } from "../../errors.js";
import { readBoth32, writeBoth32 } from "./both-endian.js";
import { decodeShortDate, encodeShortDate } from "./dates.js";

export interface SuspEntry {
  sig: string;
  data: Buffer; // the bytes after the 4-byte header
}

/** Parses entries from a system use area; stops at ST, padding or a malformed length. */
export function parseSusp(area: Buffer): SuspEntry[] {
  const out: SuspEntry[] = [];
  let at = 0;
  while (at + 4 <= area.length) {
    const sig = area.toString("latin1", at, at + 2);
    const len = area[at + 2]!;
    if (len < 4 || at + len > area.length || !/^[A-Z]{2}$/.test(sig)) break;
    if (sig === "ST") break;
    out.push({ sig, data: area.subarray(at + 4, at + len) });
    at += len;
  }
  return out;
}

export interface Continuation {
  lba: number;
  offset: number;
  length: number;
}

export function continuationOf(e: SuspEntry): Continuation | undefined {
  if (e.sig !== "CE" || e.data.length < 24) return undefined;
  return { lba: readBoth32(e.data, 0), offset: readBoth32(e.data, 8), length: readBoth32(e.data, 16) };
}

/** What the Rock Ridge entries of one record say. */
export interface RockRidge {
  mode?: number;
  nlink?: number;
  uid?: number;
  gid?: number;
  type?: Exclude<EntryType, "hardlink">;
  name?: string;
  symlink?: string;
  mtime?: number;
  rdevMajor?: number;
  rdevMinor?: number;
  childLink?: number; // CL: this entry stands for a directory relocated to this LBA
  relocated?: boolean; // RE: this is the relocated directory itself; list it via its CL
}

export function decodeRockRidge(entries: readonly SuspEntry[]): RockRidge {
  const rr: RockRidge = {};
  const nameParts: Buffer[] = [];
  const linkParts: string[] = [];
  let pendingComponent = "";
  let sawSl = false;
  for (const { sig, data } of entries) {
    switch (sig) {
      case "PX":
        if (data.length >= 32) {
          const mode = readBoth32(data, 0);
          [rr.mode, rr.nlink, rr.uid, rr.gid] = [
            mode & 0o7777,
            readBoth32(data, 8),
            readBoth32(data, 16),
            readBoth32(data, 24),
          ];
          const t = typeFromMode(mode);
          if (t) rr.type = t;
        }
        break;
      case "NM":
        if (data.length >= 1) {
          const flags = data[0]!;
          if (flags & 0x02) nameParts.push(Buffer.from("."));
          else if (flags & 0x04) nameParts.push(Buffer.from(".."));
          else nameParts.push(data.subarray(1));
        }
        break;
      case "SL": {
        sawSl = true;
        let at = 1;
        while (at + 2 <= data.length) {
          const flags = data[at]!;
          const len = data[at + 1]!;
          const content = data.toString("utf8", at + 2, Math.min(at + 2 + len, data.length));
          at += 2 + len;
          let part: string | undefined;
          if (flags & 0x02) part = ".";
          else if (flags & 0x04) part = "..";
          else if (flags & 0x08) part = "";
          else part = content;
          pendingComponent += part;
          if (!(flags & 0x01)) {
            linkParts.push(pendingComponent);
            pendingComponent = "";
          }
        }
        break;
      }
      case "TF":
        {
          const t = decodeTimes(data);
          if (t !== undefined) rr.mtime = t;
        }
        break;
      case "PN":
        if (data.length >= 16) [rr.rdevMajor, rr.rdevMinor] = decodeDevice(readBoth32(data, 0), readBoth32(data, 8));
        break;
      case "CL":
        if (data.length >= 8) rr.childLink = readBoth32(data, 0);
        break;
      case "RE":
        rr.relocated = true;
        break;
    }
  }
  if (nameParts.length) rr.name = Buffer.concat(nameParts).toString("utf8");
  if (sawSl) rr.symlink = linkParts.length === 1 && linkParts[0] === "" ? "/" : linkParts.join("/");
  return rr;
}

/** TF: flags then 7- or 17-byte stamps in order creation, modify, access, attributes, ... */
function decodeTimes(data: Buffer): number | undefined {
  if (data.length < 1) return undefined;
  const flags = data[0]!;
  const long = (flags & 0x80) !== 0;
  const size = long ? 17 : 7;
  let at = 1;
  for (let bit = 0; bit < 7; bit++) {
    if (!(flags & (1 << bit))) continue;
    if (at + size > data.length) return undefined;
    if (bit === 1) return long ? undefined : decodeShortDate(data, at);
    at += size;
  }
  return undefined;
}

// ---- encoding ----

export function suspEntry(sig: string, data: Buffer): Buffer {
  if (data.length + 4 > 255) throw new FormatError("iso9660", `SUSP ${sig} entry of ${data.length + 4} bytes`);
  return Buffer.concat([Buffer.from([sig.charCodeAt(0), sig.charCodeAt(1), data.length + 4, 1]), data]);
}

export const SP = suspEntry("SP", Buffer.from([0xbe, 0xef, 0]));

const ER_ID = "RRIP_1991A";
const ER_DESC = "THE ROCK RIDGE INTERCHANGE PROTOCOL PROVIDES SUPPORT FOR POSIX FILE SYSTEM SEMANTICS";
const ER_SRC =
  "PLEASE CONTACT DISC PUBLISHER FOR SPECIFICATION SOURCE.  SEE PUBLISHER IDENTIFIER IN PRIMARY VOLUME DESCRIPTOR FOR CONTACT INFORMATION.";
export const ER = suspEntry(
  "ER",
  Buffer.concat([
    Buffer.from([ER_ID.length, ER_DESC.length, ER_SRC.length, 1]),
    Buffer.from(ER_ID + ER_DESC + ER_SRC, "latin1"),
  ]),
);

export function ceEntry(c: Continuation): Buffer {
  const d = Buffer.alloc(24);
  writeBoth32(d, c.lba, 0);
  writeBoth32(d, c.offset, 8);
  writeBoth32(d, c.length, 16);
  return suspEntry("CE", d);
}
export const CE_SIZE = 28;

export function pxEntry(
  type: Exclude<EntryType, "hardlink">,
  mode: number,
  nlink: number,
  uid: number,
  gid: number,
): Buffer {
  const d = Buffer.alloc(32);
  writeBoth32(d, typeBits(type) | (mode & 0o7777), 0);
  writeBoth32(d, nlink, 8);
  writeBoth32(d, uid, 16);
  writeBoth32(d, gid, 24);
  return suspEntry("PX", d);
}

/**
 * PN holds a 64-bit dev_t as high and low halves. We write glibc's encoding, as xorriso
 * does: libarchive and xorriso read it back exactly, and Linux reads every device with
 * major < 4096 and minor < 256 correctly (its rule for high == 0).
 */
export function pnEntry(major: number, minor: number): Buffer {
  const d = Buffer.alloc(16);
  const dev =
    (BigInt(major & 0xfffff000) << 32n) |
    (BigInt(major & 0xfff) << 8n) |
    (BigInt(minor & 0xffffff00) << 12n) |
    BigInt(minor & 0xff);
  writeBoth32(d, Number(dev >> 32n), 0);
  writeBoth32(d, Number(dev & 0xffffffffn), 8);
  return suspEntry("PN", d);
}

/**
 * high == 0: the low half is a dev_t (xorriso, and old 16-bit writers, which decode the
 * same); otherwise high and low are major and minor (genisoimage), as Linux reads them.
 */
function decodeDevice(high: number, low: number): [number, number] {
  if (high !== 0) return [high, low];
  return [(low >>> 8) & 0xfff, (low & 0xff) | ((low >>> 12) & 0xfff00)];
}

/** Modify, access and attribute-change times, all the entry's mtime. */
export function tfEntry(mtime: number): Buffer {
  const t = encodeShortDate(mtime);
  return suspEntry("TF", Buffer.concat([Buffer.from([0x0e]), t, t, t]));
}

/** NM entries, split with the CONTINUE flag when the name is long. */
export function nmEntries(name: string): Buffer[] {
  const bytes = Buffer.from(name, "utf8");
  const out: Buffer[] = [];
  for (let at = 0; at < bytes.length || out.length === 0; at += 250) {
    const part = bytes.subarray(at, at + 250);
    const more = at + 250 < bytes.length;
    out.push(suspEntry("NM", Buffer.concat([Buffer.from([more ? 1 : 0]), part])));
  }
  return out;
}

/** SL entries for a symlink target, components split as needed. */
export function slEntries(target: string): Buffer[] {
  const components: Buffer[] = [];
  const parts = target.split("/");
  parts.forEach((p, i) => {
    if (p === "" && i === 0 && target.startsWith("/")) components.push(Buffer.from([0x08, 0]));
    else if (p === "" && i > 0)
      return; // repeated or trailing slash
    else if (p === ".") components.push(Buffer.from([0x02, 0]));
    else if (p === "..") components.push(Buffer.from([0x04, 0]));
    else {
      const bytes = Buffer.from(p, "utf8");
      for (let at = 0; at < bytes.length; at += 248) {
        const chunk = bytes.subarray(at, at + 248);
        components.push(Buffer.concat([Buffer.from([at + 248 < bytes.length ? 1 : 0, chunk.length]), chunk]));
      }
    }
  });
  if (components.length === 0) components.push(Buffer.from([0x02, 0])); // empty target: "."
  const out: Buffer[] = [];
  let current: Buffer[] = [];
  let size = 0;
  for (const c of components) {
    if (size + c.length > 250) {
      out.push(Buffer.concat(current));
      [current, size] = [[], 0];
    }
    current.push(c);
    size += c.length;
  }
  out.push(Buffer.concat(current));
  return out.map((body, i) => suspEntry("SL", Buffer.concat([Buffer.from([i < out.length - 1 ? 1 : 0]), body])));
}
