// Deterministic newc writer: inode numbers in order, dev 0, times from the entries, hard
// links as GNU cpio writes them (one group, data on the last link), trailer padded to 512.
import { FormatError, printable, typeBits, type Entry } from "../../tree/entry.js";
import { encodeHeader, HEADER_SIZE, pad4, TRAILER } from "./newc-header.js";

const MAX_FILE = 0xffffffff; // newc's filesize field is 32 bits

export interface CpioWriteOptions {
  /** Pad the archive to a multiple of this many bytes (default 512, as GNU cpio). */
  padTo?: number;
}

/** Returns the archive as buffers (headers, names, data: no copy of the file bytes). */
export function writeCpio(entries: readonly Entry[], opts: CpioWriteOptions = {}): Buffer[] {
  const out: Buffer[] = [];
  let length = 0;
  const push = (b: Buffer) => {
    out.push(b);
    length += b.length;
  };
  const zeros = Buffer.alloc(512);

  // Hard-link groups: the target file plus every hardlink naming it.
  const byPath = new Map(entries.map((e) => [e.path, e]));
  const links = new Map<string, Entry[]>();
  for (const e of entries) {
    if (e.type !== "hardlink") continue;
    const target = byPath.get(e.linkTarget ?? "");
    if (!target || target.type !== "file") throw new FormatError("cpio", `hard link '${printable(e.path)}' names '${printable(e.linkTarget ?? "")}', which is not a file in the archive`);
    links.set(target.path, [...(links.get(target.path) ?? []), e]);
  }
  let ino = 0;

  const writeOne = (e: Entry, inode: number, nlink: number, data: Buffer, mode = typeBits(e.type) | (e.mode & 0o7777)) => {
    if (data.length > MAX_FILE) throw new FormatError("cpio", `'${printable(e.path)}' is ${data.length} bytes; newc cannot store files of 4 GiB or more`);
    const name = Buffer.from((e.path === "" ? "." : e.path) + "\0", "utf8");
    const header = encodeHeader({
      ino: inode,
      mode,
      uid: e.uid,
      gid: e.gid,
      nlink,
      mtime: e.mtime,
      filesize: data.length,
      devmajor: 0,
      devminor: 0,
      rdevmajor: e.rdevMajor ?? 0,
      rdevminor: e.rdevMinor ?? 0,
      namesize: name.length,
      check: 0,
    });
    push(Buffer.from(header, "latin1"));
    push(name);
    const p = pad4(HEADER_SIZE + name.length);
    if (p) push(zeros.subarray(0, p));
    if (data.length) {
      push(data);
      const q = pad4(data.length);
      if (q) push(zeros.subarray(0, q));
    }
  };

  // A group is written where its last member falls (as GNU cpio does), so that every
  // member's parent directory is already in the archive.
  const groupOf = new Map<string, Entry[]>();
  for (const [target, ls] of links) {
    const members = [byPath.get(target)!, ...ls];
    for (const m of members) groupOf.set(m.path, members);
  }
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
    members.forEach((m, i) => {
      const last = i === members.length - 1;
      const data = last ? dataOf(members[0]!) : Buffer.alloc(0);
      const nlink = members.length > 1 ? members.length : m.type === "dir" ? 2 : 1;
      writeOne(m.type === "hardlink" ? { ...m, type: "file" } : m, inode, nlink, data);
    });
  }
  writeOne({ path: TRAILER, type: "file", mode: 0, uid: 0, gid: 0, mtime: 0, size: 0 }, 0, 1, Buffer.alloc(0), 0);
  const padTo = opts.padTo ?? 512;
  const tail = (padTo - (length % padTo)) % padTo;
  if (tail) push(Buffer.alloc(tail));
  return out;
}

function dataOf(e: Entry): Buffer {
  if (e.type === "symlink") return Buffer.from(e.linkTarget ?? "", "utf8");
  if (e.type !== "file") return Buffer.alloc(0);
  if (e.data === undefined) return Buffer.alloc(0);
  if (!Buffer.isBuffer(e.data)) throw new FormatError("cpio", `'${printable(e.path)}': stream data must be read into memory before writing `);
  return e.data;
}
