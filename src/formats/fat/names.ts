// FAT names: the 8.3 short name every directory entry has, and the VFAT long-name entries
// that carry any other name (lower case, long, more than one dot) in UTF-16.
import { FormatError } from "../../errors.js";
import { printable } from "../../tree/entry.js";

/** Characters a short name may hold as they are (upper case, digits and DOS's punctuation). */
const SHORT_OK = /^[A-Z0-9!#$%&'()@^_`{}~-]$/;
/** Characters no FAT name may hold at all. */
const FORBIDDEN = /[\x00-\x1f"*/:<>?\\|\x7f]/;
const MAX_LONG_NAME = 255;

/** The 11 bytes of a valid upper-case 8.3 name, or undefined when the name needs a long name. */
export function exactShortName(name: string): Buffer | undefined {
  const m = /^([^.]{1,8})(?:\.([^.]{1,3}))?$/.exec(name);
  if (!m || name.startsWith(".")) return undefined;
  const [base, ext = ""] = [m[1]!, m[2]];
  if (![...base, ...ext].every((c) => SHORT_OK.test(c))) return undefined;
  return Buffer.from(base.padEnd(8, " ") + ext.padEnd(3, " "), "latin1");
}

export function checkLongName(name: string): void {
  if (!name || name === "." || name === "..")
    throw new FormatError("fat", `'${printable(name)}' cannot be a file name`);
  if (FORBIDDEN.test(name)) throw new FormatError("fat", `'${printable(name)}' holds a character FAT names cannot`);
  if (name.length > MAX_LONG_NAME) throw new FormatError("fat", `'${printable(name)}' is longer than 255 characters`);
  if (/[ .]$/.test(name)) throw new FormatError("fat", `'${printable(name)}' ends in a dot or a space`);
}

/**
 * A short alias for a long name, unique among `taken` (upper-case 11-byte keys): the basis
 * name's first six characters and ~N, as Windows and Linux generate them.
 */
export function shortAlias(name: string, taken: ReadonlySet<string>): Buffer {
  const clean = (s: string) =>
    [...s.toUpperCase().replace(/[ .]/g, "")].map((c) => (SHORT_OK.test(c) ? c : "_")).join("");
  const dot = name.lastIndexOf(".");
  const base = clean(dot > 0 ? name.slice(0, dot) : name) || "_";
  const ext = clean(dot > 0 ? name.slice(dot + 1) : "").slice(0, 3);
  for (let n = 1; n < 1_000_000; n++) {
    const tail = `~${n}`;
    const key = base.slice(0, 8 - tail.length) + tail;
    const bytes = key.padEnd(8, " ") + ext.padEnd(3, " ");
    if (!taken.has(bytes)) return Buffer.from(bytes, "latin1");
  }
  throw new FormatError("fat", `no free short name for '${printable(name)}'`);
}

/** The checksum of a short name that each of its long-name entries carries. */
export function shortNameChecksum(short: Buffer): number {
  let sum = 0;
  for (let i = 0; i < 11; i++) sum = (((sum & 1) << 7) + (sum >> 1) + short[i]!) & 0xff;
  return sum;
}

const LFN_SLOTS = [1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30];

/** The long-name entries for `name`, in the order they are stored (last part first). */
export function longNameEntries(name: string, short: Buffer): Buffer[] {
  const utf16 = Buffer.from(name, "utf16le");
  const units = utf16.length / 2;
  const count = Math.ceil(units / 13);
  const sum = shortNameChecksum(short);
  const entries: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const e = Buffer.alloc(32);
    e[0] = (i + 1) | (i === count - 1 ? 0x40 : 0);
    e[11] = 0x0f;
    e[13] = sum;
    LFN_SLOTS.forEach((at, j) => {
      const unit = i * 13 + j;
      const value = unit < units ? utf16.readUInt16LE(unit * 2) : unit === units ? 0 : 0xffff;
      e.writeUInt16LE(value, at);
    });
    entries.push(e);
  }
  return entries.reverse();
}

/** One long-name entry's part of the name: its sequence number and its UTF-16 units (up to the 0 terminator). */
export function decodeLongNamePart(e: Buffer): { order: number; last: boolean; sum: number; units: number[] } {
  const units: number[] = [];
  for (const at of LFN_SLOTS) {
    const u = e.readUInt16LE(at);
    if (u === 0) break;
    units.push(u);
  }
  return { order: e[0]! & 0x1f, last: (e[0]! & 0x40) !== 0, sum: e[13]!, units };
}

/** "KERNEL  GZ " -> "KERNEL.GZ"; lower-case flags (NT byte 12) honoured as Windows writes them. */
export function shortNameText(raw: Buffer, ntFlags: number): string {
  let base = raw.toString("latin1", 0, 8).trimEnd();
  let ext = raw.toString("latin1", 8, 11).trimEnd();
  if (raw[0] === 0x05) base = "\xe5" + base.slice(1);
  if (ntFlags & 0x08) base = base.toLowerCase();
  if (ntFlags & 0x10) ext = ext.toLowerCase();
  return ext ? `${base}.${ext}` : base;
}
