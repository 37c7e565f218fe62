// Deterministic newc writer: inode numbers in order, dev 0, times from the entries, hard
// links as GNU cpio writes them (one group, data on the last link), trailer padded to 512.
// File data may be bytes or a stream: it is streamed through, never gathered.
import { FormatError } from "../../errors.js";
import { contentChunks, printable, typeBits, type Entry } from "../../tree/entry.js";
import { encodeHeader, HEADER_SIZE, pad4, TRAILER } from "./newc-header.js";
import { giveBuffer, takeBuffer } from "../../io/buffer-pool.js";

const MAX_FIELD = 0xffffffff; // every newc field is 32 bits

export interface CpioWriteOptions {
  /** Pad the archive to a multiple of this many bytes (default 512, as GNU cpio). */
  padTo?: number;
  /**
   * Read file data that has random access (Entry.source) into one reused buffer. Only for a
   * consumer that is done with each chunk before it asks for the next (the gzip writer
   * copies it into its block), never one that keeps chunks; it spares a large image a fresh
   * 1 MiB buffer per piece, which V8 freed late and RSS paid for.
   */
  reuseBuffer?: boolean;
}

const PIECE = 1 << 20;

const ZEROS = Buffer.alloc(512);

/** The archive as a stream of buffers: headers, names, padding and each file's data in turn. */
export async function* writeCpio(
  input: Iterable<Entry> | AsyncIterable<Entry>,
  opts: CpioWriteOptions = {},
): AsyncGenerator<Buffer> {
  const scratch = opts.reuseBuffer ? takeBuffer(PIECE) : undefined;
  try {
    yield* records(input, opts.padTo ?? 512, scratch);
  } finally {
    if (scratch) giveBuffer(scratch);
  }
}

async function* records(
  input: Iterable<Entry> | AsyncIterable<Entry>,
  padTo: number,
  scratch: Buffer | undefined,
): AsyncGenerator<Buffer> {
  const entries: Entry[] = [];
  for await (const e of input) entries.push(e);
  let length = 0;
  const emit = (b: Buffer): Buffer => {
    length += b.length;
    return b;
  };

  // Hard-link groups: the target file plus every hardlink naming it, written where the
  // group's last member falls (as GNU cpio does), so that every parent is already there.
  const byPath = new Map(entries.map((e) => [e.path, e]));
  const groupOf = new Map<string, Entry[]>();
  for (const e of entries) {
    if (e.type !== "hardlink") continue;
    const target = byPath.get(e.linkTarget ?? "");
    if (!target || target.type !== "file")
      throw new FormatError(
        "cpio",
        `hard link '${printable(e.path)}' names '${printable(e.linkTarget ?? "")}', which is not a file in the archive`,
      );
    const members = groupOf.get(target.path) ?? [target];
    members.push(e);
    for (const m of members) groupOf.set(m.path, members);
  }

  let ino = 0;
  const seen = new Map<Entry[], number>();
  for (const e of entries) {
    const group = groupOf.get(e.path);
    if (group) {
      const n = (seen.get(group) ?? 0) + 1;
      seen.set(group, n);
      if (n < group.length) continue;
    }
    const members = group ?? [e];
    const inode = ++ino;
    for (const [i, m] of members.entries()) {
      const last = i === members.length - 1;
      const source = members[0]!;
      const nlink = members.length > 1 ? members.length : m.type === "dir" ? 2 : 1;
      const size = !last
        ? 0
        : source.type === "symlink"
          ? Buffer.byteLength(source.linkTarget ?? "")
          : source.type === "file"
            ? source.size
            : 0;
      const record = m.type === "hardlink" ? { ...m, type: "file" as const } : m;
      yield emit(header(record, inode, nlink, size, typeBits(record.type) | (record.mode & 0o7777)));
      if (size > 0) {
        let got = 0;
        for await (const chunk of dataOf(source, scratch)) {
          got += chunk.length;
          if (got > size) break;
          yield emit(chunk);
        }
        if (got !== size)
          throw new FormatError("cpio", `'${printable(source.path)}' delivered ${got} bytes, its entry says ${size}`);
        const q = pad4(size);
        if (q) yield emit(ZEROS.subarray(0, q));
      }
    }
  }
  yield emit(header({ path: TRAILER, type: "file", mode: 0, uid: 0, gid: 0, mtime: 0, size: 0 }, 0, 1, 0, 0));
  const tail = (padTo - (length % padTo)) % padTo;
  if (tail) yield emit(Buffer.alloc(tail));
}

function header(e: Entry, inode: number, nlink: number, filesize: number, mode: number): Buffer {
  if (filesize > MAX_FIELD)
    throw new FormatError(
      "cpio",
      `'${printable(e.path)}' is ${filesize} bytes; newc cannot store files of 4 GiB or more`,
    );
  const fields = {
    uid: e.uid,
    gid: e.gid,
    mtime: e.mtime,
    filesize,
    rdevmajor: e.rdevMajor ?? 0,
    rdevminor: e.rdevMinor ?? 0,
  };
  for (const [name, v] of Object.entries(fields)) {
    if (!Number.isInteger(v) || v < 0 || v > MAX_FIELD)
      throw new FormatError(
        "cpio",
        `'${printable(e.path)}': ${name} ${v} does not fit newc's 32-bit field (0..${MAX_FIELD})`,
      );
  }
  const name = Buffer.from((e.path === "" ? "." : e.path) + "\0", "utf8");
  const text = encodeHeader({
    ino: inode,
    mode,
    nlink,
    devmajor: 0,
    devminor: 0,
    namesize: name.length,
    check: 0,
    ...fields,
  });
  const p = pad4(HEADER_SIZE + name.length);
  return Buffer.concat([Buffer.from(text, "latin1"), name, ZEROS.subarray(0, p)]);
}

async function* dataOf(e: Entry, scratch?: Buffer): AsyncGenerator<Buffer> {
  if (e.type === "symlink") yield Buffer.from(e.linkTarget ?? "", "utf8");
  else yield* contentChunks(e, scratch);
}
