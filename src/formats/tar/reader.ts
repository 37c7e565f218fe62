// tar reading over random-access bytes: headers are read one block at a time and each
// file's data is streamed from its place when opened (a view, for bytes in memory). ustar
// and GNU headers, pax extended headers (path, linkpath, size, uid, gid, mtime), GNU long
// names; checksums verified; every size checked against what is left.
import { normalizeEntryPath, printable, type Entry, type EntryType } from "../../tree/entry.js";
import { FormatError } from "../../errors.js";
import { bufferSource, rangeStream, sliceSource, type ByteSource } from "../../io/byte-source.js";

const BLOCK = 512;
/** pax headers and GNU long names larger than this are hostile, not metadata. */
const MAX_METADATA = 1 << 20;
const MAX_ID = 2 ** 32 - 1;
const MAX_TIME = 2 ** 33 - 1;
const TYPES: Record<string, EntryType> = {
  "0": "file",
  "\0": "file",
  "7": "file",
  "1": "hardlink",
  "2": "symlink",
  "3": "char",
  "4": "block",
  "5": "dir",
  "6": "fifo",
};

/** ustar magic at offset 257 ("ustar\0" POSIX or "ustar " GNU). */
export const isTar = (b: Buffer): boolean => b.length >= 263 && b.toString("latin1", 257, 262) === "ustar";

const cstring = (b: Buffer, at: number, len: number) => {
  const end = b.indexOf(0, at);
  return b.toString("utf8", at, end < 0 || end > at + len ? at + len : end);
};

/** Octal, or GNU base-256 when the high bit of the first byte is set. */
function number(b: Buffer, at: number, len: number, what: string): number {
  if (b[at]! & 0x80) {
    let v = b[at]! & 0x7f;
    for (let i = 1; i < len; i++) {
      v = v * 256 + b[at + i]!;
      if (v > Number.MAX_SAFE_INTEGER) throw new FormatError("tar", `${what} is too large`);
    }
    return v;
  }
  const text = b
    .toString("latin1", at, at + len)
    .replace(/[\0 ]+$/, "")
    .trim();
  if (text === "") return 0;
  if (!/^[0-7]+$/.test(text)) throw new FormatError("tar", `${what} '${printable(text)}' is not octal`);
  return parseInt(text, 8);
}

function checksum(h: Buffer): number {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : h[i]!;
  return sum;
}

/** pax records: "<len> <key>=<value>\n" */
function paxRecords(data: Buffer): Map<string, string> {
  const out = new Map<string, string>();
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    const len = space < 0 ? NaN : Number(data.toString("latin1", at, space));
    if (!Number.isInteger(len) || len <= 0 || at + len > data.length)
      throw new FormatError("tar", "malformed pax extended header");
    const rec = data.toString("utf8", space + 1, at + len - 1);
    const eq = rec.indexOf("=");
    if (eq > 0) out.set(rec.slice(0, eq), rec.slice(eq + 1));
    at += len;
  }
  return out;
}

/** The entries of a tar archive, in archive order; file data is read from `input` when opened. */
export async function* readTar(input: Buffer | ByteSource): AsyncGenerator<Entry> {
  yield* tarEntries(Buffer.isBuffer(input) ? bufferSource(input) : input);
}

function* tarEntries(src: ByteSource): Generator<Entry> {
  let global = new Map<string, string>();
  let pax = new Map<string, string>();
  let longName: string | undefined;
  let longLink: string | undefined;
  let at = 0;
  // Metadata members (pax, long names) are read whole: bounded, they are headers in disguise.
  const small = (offset: number, size: number, what: string): Buffer => {
    if (size > MAX_METADATA)
      throw new FormatError(
        "tar",
        `${what} at offset ${offset - BLOCK} claims ${size} bytes (at most ${MAX_METADATA})`,
      );
    return src.read(offset, size);
  };
  while (at + BLOCK <= src.size) {
    const h = src.read(at, BLOCK);
    if (h.every((x) => x === 0)) break; // end of archive
    if (number(h, 148, 8, "checksum") !== checksum(h))
      throw new FormatError("tar", `header checksum mismatch at offset ${at}`);
    const type = String.fromCharCode(h[156]!);
    const ext = new Map([...global, ...pax]);
    const sizeText = ext.get("size");
    const size = sizeText !== undefined ? Number(sizeText) : number(h, 124, 12, "size");
    if (!Number.isSafeInteger(size) || size < 0)
      throw new FormatError("tar", `size '${printable(String(sizeText))}' at offset ${at} is invalid`);
    const dataAt = at + BLOCK;
    if (dataAt + size > src.size)
      throw new FormatError(
        "tar",
        `truncated: an entry at offset ${at} claims ${size} bytes, ${src.size - dataAt} are left`,
      );
    at = dataAt + Math.ceil(size / BLOCK) * BLOCK;
    if (type === "x") {
      pax = paxRecords(small(dataAt, size, "pax header"));
      continue;
    }
    if (type === "g") {
      global = new Map([...global, ...paxRecords(small(dataAt, size, "pax global header"))]);
      continue;
    }
    if (type === "L" || type === "K") {
      const text = small(dataAt, size, "GNU long name").toString("utf8").replace(/\0+$/, "");
      if (type === "L") longName = text;
      else longLink = text;
      continue;
    }
    const ustar = h.toString("latin1", 257, 263) === "ustar\0";
    const prefix = ustar ? cstring(h, 345, 155) : "";
    const name = ext.get("path") ?? longName ?? (prefix ? `${prefix}/${cstring(h, 0, 100)}` : cstring(h, 0, 100));
    const link = ext.get("linkpath") ?? longLink ?? cstring(h, 157, 100);
    [pax, longName, longLink] = [new Map<string, string>(), undefined, undefined];
    const kind = TYPES[type];
    if (!kind) continue; // other types (sockets cannot be stored; vendor extensions) carry nothing we use
    const e: Entry = {
      path: normalizeEntryPath("tar", name),
      type: kind,
      mode: number(h, 100, 8, "mode") & 0o7777,
      uid: ext.has("uid") ? paxNumber(ext.get("uid")!, "uid", MAX_ID) : number(h, 108, 8, "uid"),
      gid: ext.has("gid") ? paxNumber(ext.get("gid")!, "gid", MAX_ID) : number(h, 116, 8, "gid"),
      mtime: ext.has("mtime") ? paxNumber(ext.get("mtime")!, "mtime", MAX_TIME) : number(h, 136, 12, "mtime"),
      size: 0,
    };
    if (kind === "file") {
      [e.data, e.size] = [() => rangeStream(src, [{ offset: dataAt, length: size }]), size];
      e.source = () => sliceSource(src, dataAt, size);
    }
    if (kind === "symlink") e.linkTarget = link;
    if (kind === "hardlink") e.linkTarget = normalizeEntryPath("tar", link);
    if (kind === "char" || kind === "block")
      [e.rdevMajor, e.rdevMinor] = [number(h, 329, 8, "devmajor"), number(h, 337, 8, "devminor")];
    yield e;
  }
}

/** A pax number: decimal, an mtime may have a fraction (dropped); out-of-range values are refused. */
function paxNumber(text: string, what: string, max: number): number {
  if (!/^-?\d+(\.\d+)?$/.test(text)) throw new FormatError("tar", `pax ${what} '${printable(text)}' is not a number`);
  const v = Math.floor(Number(text));
  if (!(v >= 0 && v <= max)) throw new FormatError("tar", `pax ${what} ${printable(text)} is out of range (0..${max})`);
  return v;
}
