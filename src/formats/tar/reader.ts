// tar reading over random-access bytes: headers are read one block at a time and each
// file's data is streamed from its place when opened (a view, for bytes in memory). ustar
// and GNU headers, pax extended headers (path, linkpath, size, uid, gid, mtime), GNU long
// names; checksums verified; every size checked against what is left.
import { normalizeEntryPath, printable, type Entry, type EntryType } from "../../tree/entry.js";
import { FormatError } from "../../errors.js";
import { bufferSource, sliceSource, type ByteSource } from "../../io/byte-source.js";
import { budgetOf, DEFAULT_LIMITS, type ReadLimits } from "../limits.js";
import { BLOCK, headerChecksum, numberField, paxNumber, paxRecords, textField } from "./header.js";

/** pax headers, GNU long names and the pax global state larger than this are hostile, not metadata. */
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

/** The entries of a tar archive, in archive order; file data is read from `input` when opened. */
export async function* readTar(input: Buffer | ByteSource, limits: ReadLimits = DEFAULT_LIMITS): AsyncGenerator<Entry> {
  yield* tarEntries(Buffer.isBuffer(input) ? bufferSource(input) : input, limits);
}

async function* tarEntries(src: ByteSource, limits: ReadLimits): AsyncGenerator<Entry> {
  const budget = budgetOf(limits);
  let count = 0;
  let fileBytes = 0;
  // pax global records, merged in place: their total size is bounded like one header's.
  const global = new Map<string, string>();
  let globalBytes = 0;
  let pax = new Map<string, string>();
  const ext = (key: string): string | undefined => pax.get(key) ?? global.get(key);
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
    budget.visit("tar", size, `${what} at offset ${offset - BLOCK}`);
    return src.read(offset, size);
  };
  while (at + BLOCK <= src.size) {
    await budget.pause();
    const h = src.read(at, BLOCK);
    if (h.every((x) => x === 0)) break; // end of archive
    if (numberField(h, 148, 8, "checksum", MAX_ID) !== headerChecksum(h))
      throw new FormatError("tar", `header checksum mismatch at offset ${at}`);
    const type = String.fromCharCode(h[156]!);
    const sizeText = ext("size");
    const size = sizeText !== undefined ? Number(sizeText) : numberField(h, 124, 12, "size", Number.MAX_SAFE_INTEGER);
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
      for (const [k, v] of paxRecords(small(dataAt, size, "pax global header"))) {
        globalBytes += k.length + v.length - (global.has(k) ? k.length + global.get(k)!.length : 0);
        global.set(k, v);
      }
      if (globalBytes > MAX_METADATA)
        throw new FormatError("tar", `pax global headers hold more than ${MAX_METADATA} bytes of records`);
      continue;
    }
    if (type === "L" || type === "K") {
      const text = small(dataAt, size, "GNU long name").toString("utf8").replace(/\0+$/, "");
      if (type === "L") longName = text;
      else longLink = text;
      continue;
    }
    const ustar = h.toString("latin1", 257, 263) === "ustar\0";
    const prefix = ustar ? textField(h, 345, 155) : "";
    const name = ext("path") ?? longName ?? (prefix ? `${prefix}/${textField(h, 0, 100)}` : textField(h, 0, 100));
    const link = ext("linkpath") ?? longLink ?? textField(h, 157, 100);
    const [uid, gid, mtime] = [ext("uid"), ext("gid"), ext("mtime")];
    [pax, longName, longLink] = [new Map<string, string>(), undefined, undefined];
    const kind = TYPES[type];
    if (!kind) continue; // other types (sockets cannot be stored; vendor extensions) carry nothing we use
    const e: Entry = {
      path: normalizeEntryPath("tar", name),
      type: kind,
      mode: numberField(h, 100, 8, "mode", MAX_ID) & 0o7777,
      uid: uid !== undefined ? paxNumber(uid, "uid", MAX_ID) : numberField(h, 108, 8, "uid", MAX_ID),
      gid: gid !== undefined ? paxNumber(gid, "gid", MAX_ID) : numberField(h, 116, 8, "gid", MAX_ID),
      mtime: mtime !== undefined ? paxNumber(mtime, "mtime", MAX_TIME) : numberField(h, 136, 12, "mtime", MAX_TIME),
      size: 0,
    };
    if (kind === "file") {
      [e.content, e.size] = [() => sliceSource(src, dataAt, size), size];
      fileBytes += size;
      if (fileBytes > limits.bytes)
        throw new FormatError("tar", `its files hold more than ${limits.bytes} bytes (the limit for one container)`);
    }
    if (++count > limits.entries)
      throw new FormatError("tar", `more than ${limits.entries} entries (the limit for one container)`);
    if (kind === "symlink") e.linkTarget = link;
    if (kind === "hardlink") e.linkTarget = normalizeEntryPath("tar", link);
    if (kind === "char" || kind === "block")
      [e.rdevMajor, e.rdevMinor] = [
        numberField(h, 329, 8, "devmajor", MAX_ID),
        numberField(h, 337, 8, "devminor", MAX_ID),
      ];
    yield e;
  }
}
