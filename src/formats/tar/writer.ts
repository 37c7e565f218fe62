// tar through tar-stream: the entries' order and times, owners as numbers, no user or group
// names, file data streamed through; fields that do not fit are an error, never clamped.
import tarStream from "tar-stream";
import { MAX_ID, printable, type Entry } from "../../tree/entry.js";
import { FormatError } from "../../errors.js";

const TYPES: Partial<Record<Entry["type"], tarStream.Header["type"]>> = {
  file: "file",
  dir: "directory",
  symlink: "symlink",
  hardlink: "link",
  char: "character-device",
  block: "block-device",
  fifo: "fifo",
};

/**
 * Hard links in archive order: the group's first path carries the data and the others
 * link to it, because extractors need a link's target to exist first.
 */
function linksFirstCarryData(entries: readonly Entry[]): Entry[] {
  const byPath = new Map(entries.map((e) => [e.path, e]));
  const groups = new Map<string, Entry[]>(); // target file path -> its members, in archive order
  for (const e of entries) {
    if (e.type !== "hardlink") continue;
    const target = byPath.get(e.linkTarget ?? "");
    if (!target || target.type !== "file")
      throw new FormatError(
        "tar",
        `hard link '${printable(e.path)}' names '${printable(e.linkTarget ?? "")}', which is not a file in the archive`,
      );
    groups.set(target.path, [...(groups.get(target.path) ?? [target]), e]);
  }
  const headOf = new Map<string, { head: string; file: Entry }>();
  const order = new Map(entries.map((e, i) => [e.path, i]));
  for (const [target, members] of groups) {
    const head = [...members].sort((a, b) => order.get(a.path)! - order.get(b.path)!)[0]!.path;
    for (const m of members) headOf.set(m.path, { head, file: byPath.get(target)! });
  }
  return entries.map((e) => {
    const g = headOf.get(e.path);
    if (!g) return e;
    const { data: _data, linkTarget: _link, ...meta } = e;
    return e.path === g.head
      ? { ...meta, type: "file", size: g.file.size, ...(g.file.data ? { data: g.file.data } : {}) }
      : { ...meta, type: "hardlink", size: 0, linkTarget: g.head };
  });
}

const MAX_TIME = 2 ** 31 - 1; // tar-stream truncates the time to a signed 32-bit number

/** The archive in the entries' order (see tree/reproducible.ts for a canonical one), data streamed through. */
export async function writeTar(input: Iterable<Entry> | AsyncIterable<Entry>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of tarStreamOf(input)) chunks.push(c);
  return Buffer.concat(chunks);
}

export async function* tarStreamOf(input: Iterable<Entry> | AsyncIterable<Entry>): AsyncGenerator<Buffer> {
  const list: Entry[] = [];
  for await (const e of input) list.push(e);
  const pack = tarStream.pack();
  const writing = (async () => {
    for (const e of linksFirstCarryData(list)) {
      const type = TYPES[e.type];
      if (!type) throw new FormatError("tar", `'${printable(e.path)}': ${e.type} entries cannot be stored in tar`);
      for (const [name, v, max] of [
        ["uid", e.uid, MAX_ID],
        ["gid", e.gid, MAX_ID],
        ["mtime", e.mtime, MAX_TIME],
      ] as const) {
        if (!Number.isInteger(v) || v < 0 || v > max)
          throw new FormatError("tar", `'${printable(e.path)}': ${name} ${v} does not fit a tar header (0..${max})`);
      }
      const size = e.type === "file" ? e.size : 0;
      const header: tarStream.Header = {
        name: e.path === "" ? "./" : e.type === "dir" ? `${e.path}/` : e.path,
        type,
        mode: e.mode & 0o7777,
        uid: e.uid,
        gid: e.gid,
        uname: "",
        gname: "",
        mtime: new Date(e.mtime * 1000), // a Date: tar-stream replaces a numeric 0 by "now"
        size,
        linkname: e.type === "symlink" || e.type === "hardlink" ? (e.linkTarget ?? "") : "",
        devmajor: e.rdevMajor ?? 0,
        devminor: e.rdevMinor ?? 0,
      };
      await new Promise<void>((resolve, reject) => {
        if (e.type !== "file" || Buffer.isBuffer(e.data) || !e.data) {
          const data = e.type === "file" ? ((e.data as Buffer | undefined) ?? Buffer.alloc(0)) : Buffer.alloc(0);
          if (data.length !== size)
            return reject(
              new FormatError("tar", `'${printable(e.path)}' holds ${data.length} bytes, its entry says ${size}`),
            );
          pack.entry(header, data, (err) => (err ? reject(err) : resolve()));
          return;
        }
        const sink = pack.entry(header, (err) => (err ? reject(err) : resolve()));
        const source = e.data();
        source.on("error", reject);
        source.pipe(sink);
      });
    }
    pack.finalize();
  })();
  writing.catch((err: unknown) => pack.destroy(err as Error));
  for await (const c of pack) yield c as Buffer;
  await writing;
}
