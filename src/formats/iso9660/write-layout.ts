// The ISO writer's third step: the size of every directory extent and path table, and the
// sector of everything, in the order the emitter writes them.
import { FormatError } from "../../errors.js";
import { printable } from "../../tree/entry.js";
import { FIRST_DESCRIPTOR_LBA, SECTOR } from "./descriptors.js";
import { recordLength } from "./directory-record.js";
import { HYBRID_ALIGN } from "./hybrid.js";
import { suLength } from "./write-rock-ridge.js";
import { directories, sortedChildren, type IsoTree, type Node } from "./write-tree.js";

const MAX_FILE = 0xffffffff;

export interface Layout {
  primaryDirs: Node[];
  jolietDirs: Node[];
  pathTables: { primary: { size: number; l: number; m: number }; joliet: { size: number; l: number; m: number } };
  catalogLba: number;
  /** Files with data, in sector order. */
  dataFiles: Node[];
  /** First sector after the data. */
  end: number;
  totalSectors: number;
}

export const sectorsFor = (bytes: number): number => Math.ceil(bytes / SECTOR);

/** Directory extent sizes: records never cross a sector. */
function extentSize(lengths: number[]): number {
  let sectors = 1;
  let used = 0;
  for (const l of lengths) {
    if (used + l > SECTOR) [sectors, used] = [sectors + 1, 0];
    used += l;
  }
  return sectors * SECTOR;
}

export function layOut(
  tree: IsoTree,
  opts: {
    joliet: boolean;
    boot?: { imagePath: string; catalogPath: string };
    hybrid: boolean;
    /** Files whose data goes after all others (an EFI System Partition: its partition then ends the image). */
    last?: readonly string[];
    /** Files whose bytes already lie inside another file's data (at a CD-sector offset): no copy is written. */
    within?: ReadonlyMap<string, { host: string; offset: number }>;
  },
): Layout {
  const { root, all, byPath } = tree;
  const primaryDirs = directories(root, "iso");
  for (const d of primaryDirs) {
    d.dirSize = extentSize([
      recordLength(1, suLength(d.dotSu!)),
      recordLength(1, suLength(d.dotdotSu!)),
      ...sortedChildren(d, "iso").map((c) => recordLength(c.iso.length, suLength(c.su))),
    ]);
  }
  const jolietDirs = opts.joliet ? directories(root, "joliet") : [];
  for (const d of jolietDirs)
    d.jDirSize = extentSize([34, 34, ...sortedChildren(d, "joliet").map((c) => recordLength(c.joliet!.length, 0))]);

  const pathTableSize = (dirs: Node[], key: "iso" | "joliet") =>
    dirs.reduce((n, d) => n + 8 + (d === root ? 1 : d[key]!.length) + ((d === root ? 1 : d[key]!.length) % 2), 0);
  const pSize = pathTableSize(primaryDirs, "iso");
  const jSize = opts.joliet ? pathTableSize(jolietDirs, "joliet") : 0;

  // PVD at 16, boot record, Joliet SVD, terminator; then path tables, catalog, directories, data.
  let lba = FIRST_DESCRIPTOR_LBA + 2 + (opts.boot ? 1 : 0) + (opts.joliet ? 1 : 0);
  const take = (sectors: number) => {
    const at = lba;
    lba += sectors;
    return at;
  };
  const primary = { size: pSize, l: take(sectorsFor(pSize)), m: take(sectorsFor(pSize)) };
  const joliet = {
    size: jSize,
    l: take(opts.joliet ? sectorsFor(jSize) : 0),
    m: take(opts.joliet ? sectorsFor(jSize) : 0),
  };
  const catalogLba = opts.boot ? take(1) : -1;
  for (const d of primaryDirs) d.dirLba = take(d.dirSize / SECTOR + d.ce.length);
  for (const d of jolietDirs) d.jDirLba = take(d.jDirSize / SECTOR);
  const dataFiles: Node[] = [];
  const last = new Set(opts.last ?? []);
  for (const n of [...all.filter((n) => !last.has(n.entry.path)), ...all.filter((n) => last.has(n.entry.path))]) {
    if (n.entry.type !== "file" || opts.within?.has(n.entry.path)) continue;
    if (opts.boot && n.entry.path === opts.boot.catalogPath) {
      [n.dataLba, n.dataSize] = [catalogLba, SECTOR];
      continue;
    }
    const size = n.entry.path === opts.boot?.imagePath ? tree.bootImage!.length : n.entry.size;
    if (size > MAX_FILE)
      throw new FormatError(
        "iso9660",
        `'${printable(n.entry.path)}' is ${size} bytes; files of 4 GiB or more are not supported`,
      );
    n.dataSize = size;
    n.dataLba = size > 0 ? take(sectorsFor(size)) : 0;
    dataFiles.push(n);
  }
  for (const [path, { host, offset }] of opts.within ?? []) {
    const n = byPath.get(path);
    const h = byPath.get(host);
    if (!n || n.entry.type !== "file" || !h || !dataFiles.includes(h) || offset % SECTOR !== 0)
      throw new FormatError("iso9660", `'${printable(path)}' cannot share the data of '${printable(host)}'`);
    if (offset + n.entry.size > h.dataSize)
      throw new FormatError("iso9660", `'${printable(path)}' would end past the data of '${printable(host)}'`);
    [n.dataLba, n.dataSize] = [n.entry.size > 0 ? h.dataLba + offset / SECTOR : 0, n.entry.size];
  }
  for (const n of all) {
    if (n.entry.type !== "hardlink") continue;
    const t = byPath.get(n.entry.linkTarget!)!;
    [n.dataLba, n.dataSize] = [t.dataLba, t.dataSize];
  }
  const totalSectors = opts.hybrid ? Math.ceil((lba * SECTOR) / HYBRID_ALIGN) * (HYBRID_ALIGN / SECTOR) : lba;
  return { primaryDirs, jolietDirs, pathTables: { primary, joliet }, catalogLba, dataFiles, end: lba, totalSectors };
}
