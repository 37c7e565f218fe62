// Reproducible FAT12/16/32 writer: an EFI System Partition image from Entries. The layout
// (names, clusters, FATs, directories) is computed from names and sizes alone, so the
// image's size is known before a byte is written; the image is then a random-access source
// whose file data is read from the entries where it lies, never held whole. Dates come from the entries, the serial
// and label from the caller: same entries, same bytes.
import { FormatError } from "../../errors.js";
import {
  bufferSource,
  concatSource,
  deferredSource,
  sourceChunks,
  zeroSource,
  type ByteSource,
} from "../../io/byte-source.js";
import { openContent, printable, type Entry } from "../../tree/entry.js";
import { dosDateTime } from "./dos-time.js";
import {
  chooseGeometry,
  clusterBytes,
  encodeBootSector,
  encodeFsInfo,
  SECTOR,
  type FatGeometry,
  type FatType,
  type VolumeIds,
} from "./geometry.js";
import { checkLongName, exactShortName, longNameEntries, shortAlias } from "./names.js";
import { endOfChain, setEntry } from "./table.js";

export const ATTR_VOLUME_ID = 0x08;
export const ATTR_DIRECTORY = 0x10;
const ATTR_ARCHIVE = 0x20;

interface Node {
  name: string;
  entry: Entry;
  children: Node[];
  parent?: Node;
  short: Buffer;
  long: Buffer[];
  firstCluster: number;
  clusters: number;
}

export interface FatOptions {
  /** Volume label (up to 11 characters, stored upper case). */
  label?: string;
  /** The volume serial number; derive it from the content for reproducible images. */
  serial: number;
  /** Date of the root directory's label entry (seconds since 1970). */
  epoch: number;
  /** Force a FAT type (tests); by default the smallest volume that fits. */
  type?: FatType;
  /**
   * Bytes every file's data must start on (a power of two from 512, e.g. 2048): an ISO can
   * then point its own directory records at the files inside the image instead of a copy.
   */
  alignFiles?: number;
}

export interface FatImage {
  geometry: FatGeometry;
  size: number;
  /** Where each file's data starts in the image (contiguous, `size` bytes), by path. */
  fileOffsets: ReadonlyMap<string, number>;
  /** The image's bytes with random access; file data read from the entries when reached. */
  source(): ByteSource;
  /** The image's bytes in order. */
  stream(): AsyncGenerator<Buffer>;
}

function treeOf(entries: readonly Entry[]): Node {
  const root: Node = {
    name: "",
    entry: { path: "", type: "dir", mode: 0o755, uid: 0, gid: 0, mtime: 0, size: 0 },
    children: [],
    short: Buffer.alloc(11),
    long: [],
    firstCluster: 0,
    clusters: 0,
  };
  const dirs = new Map<string, Node>([["", root]]);
  const dirOf = (path: string, mtime: number): Node => {
    const found = dirs.get(path);
    if (found) {
      if (found.entry.type !== "dir") throw new FormatError("fat", `'${printable(path)}' is a file and a directory`);
      return found;
    }
    const cut = path.lastIndexOf("/");
    const parent = dirOf(cut < 0 ? "" : path.slice(0, cut), mtime);
    const node = child(parent, path, { path, type: "dir", mode: 0o755, uid: 0, gid: 0, mtime, size: 0 });
    dirs.set(path, node);
    return node;
  };
  const child = (parent: Node, path: string, entry: Entry): Node => {
    const name = path.slice(path.lastIndexOf("/") + 1);
    checkLongName(name);
    const lower = name.toLowerCase();
    if (parent.children.some((c) => c.name.toLowerCase() === lower))
      throw new FormatError("fat", `'${printable(path)}' appears twice (FAT names ignore case)`);
    const node: Node = {
      name,
      entry,
      children: [],
      parent,
      short: Buffer.alloc(0),
      long: [],
      firstCluster: 0,
      clusters: 0,
    };
    parent.children.push(node);
    return node;
  };
  for (const e of [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
    if (e.path === "") continue;
    if (e.type === "dir") {
      const existing = dirs.get(e.path);
      if (existing) existing.entry = e;
      else dirOf(e.path, e.mtime).entry = e;
    } else if (e.type === "file") {
      const cut = e.path.lastIndexOf("/");
      child(dirOf(cut < 0 ? "" : e.path.slice(0, cut), e.mtime), e.path, e);
    } else throw new FormatError("fat", `'${printable(e.path)}' is a ${e.type}: FAT holds files and directories only`);
  }
  return root;
}

function nameDirectory(dir: Node): void {
  const taken = new Set<string>();
  const exact = dir.children.map((c) => exactShortName(c.name));
  exact.forEach((s) => s && taken.add(s.toString("latin1")));
  dir.children.forEach((c, i) => {
    const s = exact[i];
    if (s) c.short = s;
    else {
      c.short = shortAlias(c.name, taken);
      taken.add(c.short.toString("latin1"));
      c.long = longNameEntries(c.name, c.short);
    }
    nameDirectory(c);
  });
}

const directoryBytes = (d: Node, isRoot: boolean): number =>
  32 * ((isRoot ? 1 : 2) + d.children.reduce((n, c) => n + 1 + c.long.length, 0));

function walk(root: Node): { dirs: Node[]; files: Node[] } {
  const dirs: Node[] = [];
  const files: Node[] = [];
  const queue = [root];
  while (queue.length) {
    const d = queue.shift()!;
    dirs.push(d);
    for (const c of d.children) (c.entry.type === "dir" ? queue : files).push(c);
  }
  return { dirs, files };
}

function record(short: Buffer, attr: number, cluster: number, size: number, mtime: number): Buffer {
  const e = Buffer.alloc(32);
  short.copy(e, 0);
  e[11] = attr;
  const { date, time } = dosDateTime(mtime);
  e.writeUInt16LE(time, 14); // created
  e.writeUInt16LE(date, 16);
  e.writeUInt16LE(date, 18); // accessed
  e.writeUInt16LE(cluster >>> 16, 20);
  e.writeUInt16LE(time, 22); // written
  e.writeUInt16LE(date, 24);
  e.writeUInt16LE(cluster & 0xffff, 26);
  e.writeUInt32LE(size, 28);
  return e;
}

export function fatImage(entries: readonly Entry[], opts: FatOptions): FatImage {
  const root = treeOf(entries);
  nameDirectory(root);
  const { dirs, files } = walk(root);
  for (const f of files)
    if (f.entry.size > 0xffffffff)
      throw new FormatError("fat", `'${printable(f.entry.path)}' is ${f.entry.size} bytes; FAT files end below 4 GiB`);
  const label = (opts.label ?? "").toUpperCase().slice(0, 11);
  if (/[^A-Z0-9 !#$%&'()@^_`{}~-]/.test(label))
    throw new FormatError("fat", `'${printable(label)}' cannot be a volume label`);
  const rootBytes = directoryBytes(root, true);
  const clustersFor = (cb: number, type: FatType) =>
    dirs.reduce((n, d) => n + (d === root && type !== 32 ? 0 : Math.ceil(directoryBytes(d, d === root) / cb)), 0) +
    files.reduce((n, f) => n + Math.ceil(f.entry.size / cb), 0);
  const align = (opts.alignFiles ?? SECTOR) / SECTOR;
  if (!Number.isInteger(align) || align < 1 || align & (align - 1))
    throw new FormatError("fat", `files cannot be aligned to ${opts.alignFiles} bytes (a power of two from 512)`);
  const g = chooseGeometry(clustersFor, rootBytes / 32, opts.type, align);
  const cb = clusterBytes(g);

  // Clusters: directories first (breadth first), then files in the same order.
  const fat = Buffer.alloc(g.sectorsPerFat * SECTOR);
  setEntry(fat, g.type, 0, g.type === 12 ? 0xff8 : g.type === 16 ? 0xfff8 : 0x0ffffff8);
  setEntry(fat, g.type, 1, endOfChain(g.type));
  let next = 2;
  const allocate = (n: Node, bytes: number) => {
    n.clusters = Math.ceil(bytes / cb);
    if (!n.clusters) return;
    n.firstCluster = next;
    for (let i = 0; i < n.clusters; i++)
      setEntry(fat, g.type, next + i, i === n.clusters - 1 ? endOfChain(g.type) : next + i + 1);
    next += n.clusters;
  };
  for (const d of dirs) if (d !== root || g.type === 32) allocate(d, directoryBytes(d, d === root));
  for (const f of files) allocate(f, f.entry.size);
  if (next - 2 > g.clusterCount) throw new Error("fat writer: layout overflow"); // a bug, not an input problem

  const clusterOf = (n: Node | undefined) => (n && n !== root ? n.firstCluster : 0);
  const directory = (d: Node): Buffer => {
    const isRoot = d === root;
    const out = Buffer.alloc(isRoot && g.type !== 32 ? g.rootEntries * 32 : d.clusters * cb);
    const parts: Buffer[] = [];
    if (isRoot) parts.push(record(Buffer.from(label.padEnd(11, " "), "latin1"), ATTR_VOLUME_ID, 0, 0, opts.epoch));
    else {
      parts.push(record(Buffer.from(".          ", "latin1"), ATTR_DIRECTORY, clusterOf(d), 0, d.entry.mtime));
      parts.push(record(Buffer.from("..         ", "latin1"), ATTR_DIRECTORY, clusterOf(d.parent), 0, d.entry.mtime));
    }
    for (const c of d.children) {
      const isDir = c.entry.type === "dir";
      parts.push(
        ...c.long,
        record(c.short, isDir ? ATTR_DIRECTORY : ATTR_ARCHIVE, c.firstCluster, isDir ? 0 : c.entry.size, c.entry.mtime),
      );
    }
    Buffer.concat(parts).copy(out);
    return out;
  };
  const ids: VolumeIds = { label, serial: opts.serial };
  const used = next - 2;

  /** The image: reserved sectors, FATs, directories, then each file's data (read when reached) and padding. */
  function source(): ByteSource {
    const reserved = Buffer.alloc(g.reservedSectors * SECTOR);
    const boot = encodeBootSector(g, ids);
    boot.copy(reserved, 0);
    if (g.type === 32) {
      const info = encodeFsInfo(g.clusterCount - used, next);
      info.copy(reserved, SECTOR);
      boot.copy(reserved, 6 * SECTOR);
      info.copy(reserved, 7 * SECTOR);
    }
    const parts: ByteSource[] = [bufferSource(reserved)];
    for (let i = 0; i < g.fatCount; i++) parts.push(bufferSource(fat));
    if (g.type !== 32) parts.push(bufferSource(directory(root)));
    for (const d of dirs) if (d.clusters) parts.push(bufferSource(directory(d)));
    for (const f of files) {
      if (!f.clusters) continue;
      const { size, path } = f.entry;
      parts.push(
        deferredSource(
          size,
          () => openContent(f.entry),
          (got) => new FormatError("fat", `'${printable(path)}' delivered ${got} bytes, its entry says ${size}`),
        ),
        zeroSource(f.clusters * cb - size),
      );
    }
    parts.push(zeroSource((g.totalSectors - g.dataStart) * SECTOR - used * cb));
    return concatSource(parts);
  }
  const fileOffsets = new Map(
    files
      .filter((f) => f.clusters)
      .map((f) => [f.entry.path, (g.dataStart + (f.firstCluster - 2) * g.sectorsPerCluster) * SECTOR]),
  );
  return { geometry: g, size: g.totalSectors * SECTOR, fileOffsets, source, stream: () => sourceChunks(source()) };
}
