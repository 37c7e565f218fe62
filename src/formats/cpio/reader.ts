// newc reader over random-access bytes: file data stays in place and is read when opened.
// Goes on past each TRAILER!!! and NUL padding into the next archive (Tiny Core's core.gz is
// two), and turns GNU's hard-link groups (data on the last link) into one file and hardlink
// entries to it.
import { normalizeEntryPath, printable, typeFromMode, type Entry } from "../../tree/entry.js";
import { FormatError } from "../../errors.js";
import { bufferSource, sliceSource, type ByteSource } from "../../io/byte-source.js";
import { budgetOf, DEFAULT_LIMITS, type ReadLimits } from "../limits.js";
import { checkedContent } from "./checksum.js";
import { decodeHeader, HEADER_SIZE, MAGIC_CRC, pad4, TRAILER, type NewcHeader } from "./newc-header.js";

/** Longest name accepted: PATH_MAX. A larger namesize is hostile or corrupt. */
const MAX_NAME = 4096;

interface Pending {
  header: NewcHeader;
  entry: Entry;
}

/** Where the reader is in the archive: data is left in place and read when opened. */
interface Cursor {
  readonly position: number;
  /** Skips NUL bytes; the next byte, or undefined at the end. */
  skipZeros(): number | undefined;
  /** The next `n` bytes: a view, valid until the next call. `what` names them in an error. */
  take(n: number, what: () => string): Buffer;
  /** Steps over `n` bytes (padding). */
  skip(n: number, what: () => string): void;
  /** `n` bytes of file data, opened later from the source. */
  data(n: number, what: () => string): NonNullable<Entry["content"]>;
}

/** Bytes read ahead: headers and names are served from memory, not one system call each. */
const WINDOW = 256 * 1024;

function sourceCursor(src: ByteSource): Cursor {
  let pos = 0;
  let window: Buffer = Buffer.alloc(0);
  let windowAt = 0;
  const need = (n: number, what: () => string) => {
    if (pos + n > src.size)
      throw new FormatError(
        "cpio",
        `truncated: ${what()} needs ${n} bytes at offset ${pos}, only ${src.size - pos} left`,
      );
  };
  /** `n` bytes at `pos` (n at most WINDOW): a view of the window, refilled when it runs out. */
  const view = (n: number): Buffer => {
    if (pos < windowAt || pos + n > windowAt + window.length) {
      window = src.read(pos, Math.max(WINDOW, n));
      windowAt = pos;
    }
    return window.subarray(pos - windowAt, pos - windowAt + n);
  };
  return {
    get position() {
      return pos;
    },
    skipZeros() {
      for (;;) {
        if (pos >= src.size) return undefined;
        const block = view(Math.min(WINDOW, src.size - pos));
        const at = block.findIndex((b) => b !== 0);
        if (at >= 0) {
          pos += at;
          return block[at];
        }
        pos += block.length;
      }
    },
    take(n, what) {
      need(n, what);
      const b = n <= WINDOW ? view(n) : src.read(pos, n);
      pos += n;
      return b;
    },
    skip(n, what) {
      need(n, what);
      pos += n;
    },
    data(n, what) {
      need(n, what);
      const at = pos;
      pos += n;
      return () => sliceSource(src, at, n);
    },
  };
}

/** Every entry of every archive in `source` (concatenated archives are one initrd). */
export async function* readCpio(
  source: Buffer | ByteSource,
  limits: ReadLimits = DEFAULT_LIMITS,
): AsyncGenerator<Entry> {
  const s = sourceCursor(Buffer.isBuffer(source) ? bufferSource(source) : source);
  const budget = budgetOf(limits);
  let archives = 0;
  let count = 0;
  const counted = (e: Entry): Entry => {
    if (++count > limits.entries)
      throw new FormatError("cpio", `more than ${limits.entries} entries (the limit for one container)`);
    return e;
  };
  // Hard-link groups by (dev, ino), valid within one archive only.
  const groups = new Map<string, Pending[]>();
  for (;;) {
    // Between archives: NUL padding, then another archive or the end.
    if (s.skipZeros() === undefined) {
      if (archives === 0) throw new FormatError("cpio", "empty input: no archive");
      return;
    }
    archives++;
    for (;;) {
      if ((count & 255) === 0) await budget.pause();
      const offset = s.position;
      const h = decodeHeader(
        s.take(HEADER_SIZE, () => "header"),
        0,
        offset,
      );
      if (h.namesize === 0 || h.namesize > MAX_NAME)
        throw new FormatError("cpio", `name size ${h.namesize} at offset ${offset} is out of range (1..${MAX_NAME})`);
      const nameBytes = s.take(h.namesize, () => "name");
      if (nameBytes[h.namesize - 1] !== 0)
        throw new FormatError("cpio", `name at offset ${offset} is not NUL-terminated`);
      const rawName = nameBytes.toString("utf8", 0, h.namesize - 1);
      s.skip(pad4(HEADER_SIZE + h.namesize), () => "name padding");
      if (rawName === TRAILER) {
        for (const e of flushGroups(groups)) yield counted(e);
        break;
      }
      const type = typeFromMode(h.mode);
      if (type === "symlink" && h.filesize > MAX_LINK)
        throw new FormatError(
          "cpio",
          `symlink '${printable(rawName)}' at offset ${offset} has a ${h.filesize}-byte target`,
        );
      const what = () => `data of '${printable(rawName)}'`;
      const content = type === "file" ? s.data(h.filesize, what) : undefined;
      const bytes = content ? undefined : Buffer.from(s.take(h.filesize, what));
      s.skip(pad4(h.filesize), () => "data padding");
      // 070702: the data's byte sum, checked as the data is read (listing reads none).
      const checked = content && h.magic === MAGIC_CRC ? checkedContent(content, h.check, rawName, offset) : content;
      const entry = toEntry(h, rawName, checked ?? (() => bufferSource(bytes!)), offset);
      if (entry.type === "file" && h.nlink > 1) {
        const key = `${h.devmajor}:${h.devminor}:${h.ino}`;
        const group = groups.get(key) ?? [];
        group.push({ header: h, entry });
        groups.set(key, group);
        if (h.filesize > 0 || group.length >= h.nlink) {
          groups.delete(key);
          for (const e of emitGroup(group)) yield counted(e);
        }
        continue;
      }
      yield counted(entry);
    }
  }
}

/** A symlink's target is read whole: a longer one is corruption. */
const MAX_LINK = 4096;

function toEntry(h: NewcHeader, rawName: string, content: NonNullable<Entry["content"]>, offset: number): Entry {
  const type = typeFromMode(h.mode);
  if (!type)
    throw new FormatError(
      "cpio",
      `'${printable(rawName)}' at offset ${offset} has unknown file type in mode ${h.mode.toString(8)}`,
    );
  const entry: Entry = {
    path: normalizeEntryPath("cpio", rawName),
    type,
    mode: h.mode & 0o7777,
    uid: h.uid,
    gid: h.gid,
    mtime: h.mtime,
    size: type === "file" ? h.filesize : 0,
  };
  if (type === "file") entry.content = content;
  else if (type === "symlink") entry.linkTarget = readAll(content).toString("utf8");
  else if (type === "char" || type === "block") [entry.rdevMajor, entry.rdevMinor] = [h.rdevmajor, h.rdevminor];
  else if (h.filesize > 0)
    throw new FormatError(
      "cpio",
      `${type} '${printable(rawName)}' at offset ${offset} carries ${h.filesize} bytes of data`,
    );
  return entry;
}

/** The first name of a group becomes the file (with the group's data); the others link to it. */
function* emitGroup(group: Pending[]): Generator<Entry> {
  const withData = group.find((p) => p.header.filesize > 0) ?? group[0]!;
  const [first, ...rest] = group;
  const { content } = withData.entry;
  yield { ...first!.entry, size: withData.entry.size, ...(content ? { content } : {}) };
  for (const p of rest) {
    const { content: _content, ...meta } = p.entry;
    yield { ...meta, type: "hardlink", size: 0, linkTarget: first!.entry.path };
  }
}

function* flushGroups(groups: Map<string, Pending[]>): Generator<Entry> {
  for (const g of groups.values()) yield* emitGroup(g);
  groups.clear();
}

function readAll(content: NonNullable<Entry["content"]>): Buffer {
  const src = content();
  return src.read(0, src.size);
}
