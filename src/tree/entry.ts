// The one record every container format reads and writes (docs/architecture.md, "The Entry").
import { escapeControls, FormatError, MkError } from "../errors.js";
import { bufferSource, EMPTY_SOURCE, sourceChunks, type ByteSource } from "../io/byte-source.js";

export type EntryType = "file" | "dir" | "symlink" | "hardlink" | "char" | "block" | "fifo" | "socket";

export interface Entry {
  /** Relative, '/'-separated, no leading '/', no '.' or '..' segments; "" is the root directory. */
  path: string;
  type: EntryType;
  /** Permission bits with setuid, setgid and sticky (0o7777); never the file-type bits. */
  mode: number;
  uid: number;
  gid: number;
  /** Seconds since 1970. */
  mtime: number;
  /** Bytes of data (files); 0 for the rest. */
  size: number;
  /** Symlink target, or for a hardlink the path of the entry it links to. */
  linkTarget?: string;
  rdevMajor?: number;
  rdevMinor?: number;
  /**
   * A file's bytes, opened when needed: random access over memory, a file, a range of a
   * container, or compressed blocks decompressed on demand. Its size is `size`.
   */
  content?: () => ByteSource;
}

/** A regular file held in memory: what generated files (configs, metadata) are made of. */
export const fileEntry = (path: string, data: Buffer, mtime: number, mode = 0o644, uid = 0, gid = 0): Entry =>
  fileFrom(path, bufferSource(data), mtime, mode, uid, gid);

/** A regular file whose bytes stay where they are (a blob in the store, an initrd on disk) until read. */
export const fileFrom = (path: string, src: ByteSource, mtime: number, mode = 0o644, uid = 0, gid = 0): Entry => ({
  path,
  type: "file",
  mode,
  uid,
  gid,
  mtime,
  size: src.size,
  content: () => src,
});

// File-type bits of st_mode, as cpio, tar and squashfs store them.
const S_IFMT = 0o170000;
const TYPE_BITS: Record<Exclude<EntryType, "hardlink">, number> = {
  fifo: 0o010000,
  char: 0o020000,
  dir: 0o040000,
  block: 0o060000,
  file: 0o100000,
  symlink: 0o120000,
  socket: 0o140000,
};

export function typeBits(t: EntryType): number {
  return TYPE_BITS[t === "hardlink" ? "file" : t];
}

export function typeFromMode(mode: number): Exclude<EntryType, "hardlink"> | undefined {
  const bits = mode & S_IFMT;
  return (Object.keys(TYPE_BITS) as (keyof typeof TYPE_BITS)[]).find((k) => TYPE_BITS[k] === bits);
}

/**
 * Normalises a stored name to Entry.path: strips leading '/' and './', collapses '//', and
 * refuses '..' so that no reader can name a place outside its container.
 */
export function normalizeEntryPath(format: string, raw: string): string {
  if (isNormal(raw)) return raw;
  const parts = raw.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.some((p) => p === "..")) throw new FormatError(format, `entry name '${printable(raw)}' contains '..'`);
  if (raw.includes("\0")) throw new FormatError(format, `entry name '${printable(raw)}' contains a NUL byte`);
  return parts.join("/");
}

/** Already normal (the common case, checked without splitting): no "." or "" segment, no NUL. */
const isNormal = (raw: string): boolean =>
  raw !== "" &&
  raw[0] !== "/" &&
  raw[0] !== "." &&
  raw[raw.length - 1] !== "/" &&
  !raw.includes("/.") &&
  !raw.includes("//") &&
  !raw.includes("\0");

/** The largest uid or gid every output format holds: tar-stream writes ustar's id fields as 6 octal digits. */
export const MAX_ID = 0o777777;

/** A name made safe to print in an error message. */
export function printable(s: string, max = 120): string {
  const clean = escapeControls(s);
  return clean.length > max ? clean.slice(0, max) + "…" : clean;
}

/** A file's bytes with random access; an empty source for entries without content. */
export const openContent = (e: Entry): ByteSource => e.content?.() ?? EMPTY_SOURCE;

/**
 * A file's bytes as chunks of at most 1 MiB, read into `scratch` when given (borrowed: see
 * sourceChunks), else into fresh buffers.
 */
export const contentChunks = (e: Entry, scratch?: Buffer): AsyncGenerator<Buffer> =>
  sourceChunks(openContent(e), scratch);

/** A file's whole bytes (for small files; a large one is read through contentChunks). */
export function readContent(e: Entry): Buffer {
  const src = openContent(e);
  return src.read(0, src.size);
}

/** Larger than any real configuration file (passwd, inittab, bootlocal.sh, isolinux.cfg). */
const MAX_TEXT_FILE = 16 * 1024 * 1024;

/** A configuration file's text; one whose size says it is not one is refused before it is read. */
export async function readSmallText(e: Entry): Promise<string> {
  if (e.size > MAX_TEXT_FILE)
    throw new MkError(
      "format",
      `'${printable(e.path)}' is ${e.size} bytes; a configuration file is at most ${MAX_TEXT_FILE}`,
    );
  return readContent(e).toString("utf8");
}

/** Every item of a (possibly async) sequence, in order. */
export async function collect<T>(items: AsyncIterable<T> | Iterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of items) out.push(x);
  return out;
}
