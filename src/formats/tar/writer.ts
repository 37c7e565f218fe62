// Deterministic tar through tar-stream: sorted by path bytes, mtime as a Date (a numeric 0
// would become "now"), owners from the entries, no user or group names.
import tarStream from "tar-stream";
import { FormatError, printable, type Entry } from "../../tree/entry.js";
import { byPathBytes } from "../../tree/file-tree.js";

export interface TarWriteOptions {
  /** Overrides every entry's mtime (seconds), e.g. SOURCE_DATE_EPOCH. */
  mtime?: number;
}

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
 * Hard links after sorting: the group's first path in sorted order carries the data and
 * the others link to it, because extractors need a link's target to exist first.
 */
export function sortForArchive(entries: readonly Entry[]): Entry[] {
  const byPath = new Map(entries.map((e) => [e.path, e]));
  const sorted = [...entries].sort(byPathBytes);
  const groups = new Map<string, Entry[]>(); // target file path -> its members
  for (const e of sorted) {
    if (e.type !== "hardlink") continue;
    const target = byPath.get(e.linkTarget ?? "");
    if (!target || target.type !== "file") throw new FormatError("tar", `hard link '${printable(e.path)}' names '${printable(e.linkTarget ?? "")}', which is not a file in the archive`);
    groups.set(target.path, [...(groups.get(target.path) ?? [target]), e]);
  }
  const headOf = new Map<string, { head: string; file: Entry }>();
  for (const [target, members] of groups) {
    const head = [...members].sort(byPathBytes)[0]!.path;
    for (const m of members) headOf.set(m.path, { head, file: byPath.get(target)! });
  }
  return sorted.map((e) => {
    const g = headOf.get(e.path);
    if (!g) return e;
    const { data: _data, linkTarget: _link, ...meta } = e;
    return e.path === g.head ? { ...meta, type: "file", size: g.file.size, data: g.file.data ?? Buffer.alloc(0) } : { ...meta, type: "hardlink", size: 0, linkTarget: g.head };
  });
}

export async function writeTar(entries: readonly Entry[], opts: TarWriteOptions = {}): Promise<Buffer> {
  const pack = tarStream.pack();
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    pack.on("data", (c: unknown) => chunks.push(c as Buffer));
    pack.on("end", () => resolve(Buffer.concat(chunks)));
    pack.on("error", reject);
  });
  for (const e of sortForArchive(entries)) {
    const type = TYPES[e.type];
    if (!type) throw new FormatError("tar", `'${printable(e.path)}': ${e.type} entries cannot be stored in tar`);
    if (e.type === "file" && e.data !== undefined && !Buffer.isBuffer(e.data)) throw new FormatError("tar", `'${printable(e.path)}': stream data must be read into memory first`);
    const data = e.type === "file" ? ((e.data as Buffer | undefined) ?? Buffer.alloc(0)) : undefined;
    const header: tarStream.Header = {
      name: e.path === "" ? "./" : e.type === "dir" ? `${e.path}/` : e.path,
      type,
      mode: e.mode & 0o7777,
      uid: e.uid,
      gid: e.gid,
      uname: "",
      gname: "",
      mtime: new Date((opts.mtime ?? e.mtime) * 1000),
      size: data?.length ?? 0,
      linkname: e.type === "symlink" || e.type === "hardlink" ? (e.linkTarget ?? "") : "",
      devmajor: e.rdevMajor ?? 0,
      devminor: e.rdevMinor ?? 0,
    };
    await new Promise<void>((resolve, reject) => {
      pack.entry(header, data ?? Buffer.alloc(0), (err) => (err ? reject(err) : resolve()));
    });
  }
  pack.finalize();
  return done;
}
