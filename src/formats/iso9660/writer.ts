// Reproducible ISO 9660 writer: primary tree with Rock Ridge, a Joliet tree, L and M path
// tables, El Torito no-emulation boot with a patched boot-info-table, optional isohybrid
// MBR. Every date comes from the entries or the caller, never the clock.
import { createHash } from "node:crypto";
import { FormatError, printable, readAllData, type Entry } from "../../tree/entry.js";
import { writeFileAtomic } from "../../util/write-atomic.js";
import { encodeBootRecord, encodePrimaryLike, encodeTerminator, encodeUcs2, FIRST_DESCRIPTOR_LBA, SECTOR, type VolumeInfo } from "./descriptors.js";
import { encodeRecord, FLAG_DIRECTORY, recordLength } from "./directory-record.js";
import { encodeCatalog, patchBootInfoTable } from "./el-torito.js";
import { HYBRID_ALIGN, hybridMbr } from "./hybrid.js";
import { isoName, jolietName, uniqueNames } from "./names.js";
import { CE_SIZE, ceEntry, ER, nmEntries, pnEntry, pxEntry, slEntries, SP, suspEntry, tfEntry } from "./rock-ridge.js";

export interface IsoBootOptions {
  /** Path of the boot image (isolinux.bin) among the entries. */
  imagePath: string;
  /** Path at which the boot catalog appears; written by the writer. */
  catalogPath: string;
  loadSegment?: number;
  sectorCount?: number;
  platform?: number;
  /** Patch the boot-info-table into the image (isolinux needs it). Default true. */
  bootInfoTable?: boolean;
}

export interface IsoWriteOptions {
  /** Seconds since 1970 for the volume descriptors' dates: SOURCE_DATE_EPOCH. */
  epoch: number;
  volume?: Partial<VolumeInfo>;
  boot?: IsoBootOptions;
  /** Boot code (bytes 0..431) of an isohybrid MBR to write into the system area; needs boot. */
  hybridMbrCode?: Buffer;
  joliet?: boolean;
}

interface Node {
  entry: Entry;
  name: string;
  parent?: Node;
  children: Node[];
  iso: Buffer; // primary identifier
  joliet?: Buffer;
  su: Buffer[]; // Rock Ridge entries of this node's own record
  inline: Buffer[];
  overflow?: Overflow;
  /** Continuation sectors for the records in this directory, written right after its extent. */
  ce: Buffer[];
  dirLba: number;
  dirSize: number;
  jDirLba: number;
  jDirSize: number;
  dataLba: number;
  dataSize: number;
  data?: Buffer | Entry["data"];
  // "." and ".." records of a directory carry Rock Ridge too
  dotSu?: { inline: Buffer[]; overflow?: Overflow };
  dotdotSu?: { inline: Buffer[]; overflow?: Overflow };
}

/** Where a record's remaining Rock Ridge entries live: a continuation area of directory `dir`. */
interface Overflow {
  dir: Node;
  sector: number;
  offset: number;
  length: number;
}

const MAX_RECORD = 255;
const MAX_FILE = 0xffffffff;

function newNode(entry: Entry, name: string, parent?: Node): Node {
  return { entry, name, ...(parent ? { parent } : {}), children: [], ce: [], iso: Buffer.alloc(0), su: [], inline: [], dirLba: 0, dirSize: 0, jDirLba: 0, jDirSize: 0, dataLba: 0, dataSize: 0 };
}

function buildTree(entries: readonly Entry[], epoch: number): Node {
  const make = newNode;
  const byPath = new Map<string, Node>();
  const rootEntry = entries.find((e) => e.path === "") ?? { path: "", type: "dir", mode: 0o755, uid: 0, gid: 0, mtime: epoch, size: 0 };
  const root = make(rootEntry, "");
  byPath.set("", root);
  const ensureDir = (path: string): Node => {
    const found = byPath.get(path);
    if (found) {
      if (found.entry.type !== "dir") throw new FormatError("iso9660", `'${printable(path)}' is a ${found.entry.type} but has entries under it`);
      return found;
    }
    const slash = path.lastIndexOf("/");
    const parent = ensureDir(slash < 0 ? "" : path.slice(0, slash));
    const node = make({ path, type: "dir", mode: 0o755, uid: 0, gid: 0, mtime: epoch, size: 0 }, path.slice(slash + 1), parent);
    parent.children.push(node);
    byPath.set(path, node);
    return node;
  };
  for (const e of [...entries].sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)))) {
    if (e.path === "") continue;
    if (byPath.has(e.path)) {
      const existing = byPath.get(e.path)!;
      if (existing.entry.type === "dir" && e.type === "dir") existing.entry = e; // an implied parent, now described
      else throw new FormatError("iso9660", `'${printable(e.path)}' appears twice`);
      continue;
    }
    const slash = e.path.lastIndexOf("/");
    const parent = ensureDir(slash < 0 ? "" : e.path.slice(0, slash));
    const node = make(e, e.path.slice(slash + 1), parent);
    parent.children.push(node);
    byPath.set(e.path, node);
  }
  return root;
}

/** Directories breadth-first, children in identifier order: the path table order. */
function directories(root: Node, key: "iso" | "joliet"): Node[] {
  const out: Node[] = [root];
  for (let i = 0; i < out.length; i++) {
    for (const c of sortedChildren(out[i]!, key)) if (c.entry.type === "dir") out.push(c);
  }
  return out;
}

function sortedChildren(n: Node, key: "iso" | "joliet"): Node[] {
  return n.children.filter((c) => key === "iso" || c.joliet).sort((a, b) => Buffer.compare(a[key]!, b[key]!));
}

function assignNames(dir: Node, joliet: boolean): void {
  const kids = [...dir.children].sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)));
  const iso = uniqueNames(kids.map((k) => isoName(k.name, k.entry.type === "dir")), 30);
  kids.forEach((k, i) => (k.iso = Buffer.from(k.entry.type === "dir" ? iso[i]! : `${iso[i]};1`, "latin1")));
  if (joliet) {
    const visible = kids.filter((k) => k.entry.type === "dir" || k.entry.type === "file" || k.entry.type === "hardlink");
    const names = uniqueNames(visible.map((k) => jolietName(k.name)), 64);
    visible.forEach((k, i) => (k.joliet = encodeUcs2(names[i]!)));
  }
  for (const k of kids) if (k.entry.type === "dir") assignNames(k, joliet);
}

/**
 * Splits a record's system use between the record and a continuation area. An NM that
 * does not fit is split (CONTINUE flag) so that part of the name stays in the record:
 * libarchive ignores a name that lives only in the continuation area.
 */
function pack(nameLen: number, su: Buffer[]): { inline: Buffer[]; rest: Buffer[] } {
  const room = MAX_RECORD - 1 - recordLength(nameLen, 0);
  const total = su.reduce((n, b) => n + b.length, 0);
  if (total <= room) return { inline: su, rest: [] };
  const inline: Buffer[] = [];
  let used = CE_SIZE;
  let i = 0;
  for (; i < su.length && used + su[i]!.length <= room; i++) {
    inline.push(su[i]!);
    used += su[i]!.length;
  }
  const rest = su.slice(i);
  const next = rest[0];
  const free = room - used;
  if (next && next.toString("latin1", 0, 2) === "NM" && free >= 6 && next.length > 5) {
    const flags = next[4]!;
    const name = next.subarray(5);
    const k = Math.min(free - 5, name.length - 1);
    inline.push(suspEntry("NM", Buffer.concat([Buffer.from([flags | 1]), name.subarray(0, k)])));
    rest[0] = suspEntry("NM", Buffer.concat([Buffer.from([flags]), name.subarray(k)]));
  }
  return { inline, rest };
}

export async function* writeIso(entries: readonly Entry[], opts: IsoWriteOptions): AsyncGenerator<Buffer> {
  const joliet = opts.joliet ?? true;
  const root = buildTree(entries, opts.epoch);
  assignNames(root, joliet);
  const all: Node[] = [];
  const visit = (n: Node) => {
    all.push(n);
    for (const c of sortedChildren(n, "iso")) visit(c);
  };
  visit(root);
  const byPath = new Map(all.map((n) => [n.entry.path, n]));

  // Hard links share their target's extent; Rock Ridge gets the group's link count.
  const nlink = new Map<string, number>();
  for (const n of all) {
    if (n.entry.type !== "hardlink") continue;
    const target = byPath.get(n.entry.linkTarget ?? "");
    if (!target || target.entry.type !== "file") throw new FormatError("iso9660", `hard link '${printable(n.entry.path)}' names '${printable(n.entry.linkTarget ?? "")}', which is not a file`);
    nlink.set(target.entry.path, (nlink.get(target.entry.path) ?? 1) + 1);
  }
  const linksOf = (n: Node) => (n.entry.type === "hardlink" ? nlink.get(n.entry.linkTarget!)! : n.entry.type === "dir" ? 2 + n.children.filter((c) => c.entry.type === "dir").length : (nlink.get(n.entry.path) ?? 1));
  const rrType = (n: Node) => (n.entry.type === "hardlink" ? "file" : n.entry.type);

  // Boot: the catalog is a file the writer fills; the image gets its boot-info-table later.
  const boot = opts.boot;
  let bootImage: Buffer | undefined;
  if (boot) {
    const image = byPath.get(boot.imagePath);
    if (!image || image.entry.type !== "file") throw new FormatError("iso9660", `boot image '${printable(boot.imagePath)}' is not a file among the entries`);
    bootImage = await readAllData(image.entry);
    if (!byPath.has(boot.catalogPath)) {
      const slash = boot.catalogPath.lastIndexOf("/");
      const parent = byPath.get(slash < 0 ? "" : boot.catalogPath.slice(0, slash));
      if (!parent || parent.entry.type !== "dir") throw new FormatError("iso9660", `boot catalog '${printable(boot.catalogPath)}' needs an existing directory`);
      const node = newNode({ path: boot.catalogPath, type: "file", mode: 0o444, uid: 0, gid: 0, mtime: opts.epoch, size: SECTOR }, boot.catalogPath.slice(slash + 1), parent);
      parent.children.push(node);
      assignNames(root, joliet); // names again, with the catalog in its directory
      all.length = 0;
      visit(root);
      byPath.set(boot.catalogPath, node);
    }
  }

  // Rock Ridge entries for every record.
  for (const n of all) {
    const e = n.entry;
    // xorriso's order: PX, TF, NM first, so names stay in the record when they can.
    const su = [pxEntry(rrType(n), e.mode, linksOf(n), e.uid, e.gid), tfEntry(e.mtime), ...nmEntries(n.name)];
    if (e.type === "char" || e.type === "block") su.push(pnEntry(e.rdevMajor ?? 0, e.rdevMinor ?? 0));
    if (e.type === "symlink") su.push(...slEntries(e.linkTarget ?? ""));
    n.su = su;
  }

  // Continuation areas: per directory, right after its extent (libarchive reads one only
  // when its read position lands on it, as it does after reading the directory), never
  // across a sector.
  const ceUsed = new Map<Node, number>();
  const allocate = (dir: Node, parts: Buffer[]): Overflow => {
    const bytes = Buffer.concat(parts);
    if (bytes.length > SECTOR) throw new FormatError("iso9660", `Rock Ridge data of ${bytes.length} bytes for one record`);
    let used = ceUsed.get(dir) ?? SECTOR;
    if (used + bytes.length > SECTOR) {
      dir.ce.push(Buffer.alloc(SECTOR));
      used = 0;
    }
    const slot = { dir, sector: dir.ce.length - 1, offset: used, length: bytes.length };
    bytes.copy(dir.ce[slot.sector]!, used);
    ceUsed.set(dir, used + bytes.length);
    return slot;
  };
  const place = (dir: Node, nameLen: number, su: Buffer[]) => {
    const { inline, rest } = pack(nameLen, su);
    return rest.length ? { inline, overflow: allocate(dir, rest) } : { inline };
  };
  for (const n of all) {
    if (n !== root) {
      const p = place(n.parent!, n.iso.length, n.su);
      n.inline = p.inline;
      if (p.overflow) n.overflow = p.overflow;
    }
    if (n.entry.type === "dir") {
      const withoutName = n.su.filter((b) => b.toString("latin1", 0, 2) !== "NM");
      n.dotSu = place(n, 1, n === root ? [SP, ...withoutName, ER] : withoutName);
      const parent = n.parent ?? n;
      n.dotdotSu = place(n, 1, [pxEntry("dir", parent.entry.mode, linksOf(parent), parent.entry.uid, parent.entry.gid), tfEntry(parent.entry.mtime)]);
    }
  }

  const suBytes = (inline: Buffer[], overflow: Overflow | undefined) =>
    Buffer.concat(overflow ? [...inline, ceEntry({ lba: overflow.dir.dirLba + overflow.dir.dirSize / SECTOR + overflow.sector, offset: overflow.offset, length: overflow.length })] : inline);
  const suLen = (inline: Buffer[], overflow: Overflow | undefined) => inline.reduce((a, b) => a + b.length, 0) + (overflow ? CE_SIZE : 0);

  // Directory extent sizes: records never cross a sector.
  const extentSize = (lengths: number[]) => {
    let sectors = 1;
    let used = 0;
    for (const l of lengths) {
      if (used + l > SECTOR) [sectors, used] = [sectors + 1, 0];
      used += l;
    }
    return sectors * SECTOR;
  };
  const primaryDirs = directories(root, "iso");
  for (const d of primaryDirs) {
    d.dirSize = extentSize([
      recordLength(1, suLen(d.dotSu!.inline, d.dotSu!.overflow)),
      recordLength(1, suLen(d.dotdotSu!.inline, d.dotdotSu!.overflow)),
      ...sortedChildren(d, "iso").map((c) => recordLength(c.iso.length, suLen(c.inline, c.overflow))),
    ]);
  }
  const jolietDirs = joliet ? directories(root, "joliet") : [];
  for (const d of jolietDirs) d.jDirSize = extentSize([34, 34, ...sortedChildren(d, "joliet").map((c) => recordLength(c.joliet!.length, 0))]);

  const pathTableSize = (dirs: Node[], key: "iso" | "joliet") => dirs.reduce((n, d) => n + 8 + (d === root ? 1 : d[key]!.length) + ((d === root ? 1 : d[key]!.length) % 2), 0);
  const pSize = pathTableSize(primaryDirs, "iso");
  const jSize = joliet ? pathTableSize(jolietDirs, "joliet") : 0;
  const sectorsFor = (bytes: number) => Math.ceil(bytes / SECTOR);

  // Layout.
  // PVD at 16, boot record at 17, Joliet SVD, terminator.
  let lba = FIRST_DESCRIPTOR_LBA + 2 + (boot ? 1 : 0) + (joliet ? 1 : 0);
  const pL = lba;
  lba += sectorsFor(pSize);
  const pM = lba;
  lba += sectorsFor(pSize);
  const jL = lba;
  lba += joliet ? sectorsFor(jSize) : 0;
  const jM = lba;
  lba += joliet ? sectorsFor(jSize) : 0;
  const catalogLba = boot ? lba++ : -1;
  for (const d of primaryDirs) [d.dirLba, lba] = [lba, lba + d.dirSize / SECTOR + d.ce.length];
  for (const d of jolietDirs) [d.jDirLba, lba] = [lba, lba + d.jDirSize / SECTOR];
  const dataFiles: Node[] = [];
  for (const n of all) {
    if (n.entry.type !== "file") continue;
    if (boot && n.entry.path === boot.catalogPath) {
      [n.dataLba, n.dataSize] = [catalogLba, SECTOR];
      continue;
    }
    const size = n.entry.path === boot?.imagePath ? bootImage!.length : n.entry.size;
    if (size > MAX_FILE) throw new FormatError("iso9660", `'${printable(n.entry.path)}' is ${size} bytes; files of 4 GiB or more are not supported`);
    n.dataSize = size;
    n.dataLba = size > 0 ? lba : 0;
    lba += sectorsFor(size);
    dataFiles.push(n);
  }
  for (const n of all) {
    if (n.entry.type !== "hardlink") continue;
    const t = byPath.get(n.entry.linkTarget!)!;
    [n.dataLba, n.dataSize] = [t.dataLba, t.dataSize];
  }
  let totalSectors = lba;
  const hybrid = opts.hybridMbrCode && boot;
  if (hybrid) totalSectors = Math.ceil((lba * SECTOR) / HYBRID_ALIGN) * (HYBRID_ALIGN / SECTOR);

  // Records.
  const recordOf = (n: Node, tree: "iso" | "joliet"): Buffer => {
    const isDir = n.entry.type === "dir";
    const [extent, size] = isDir ? (tree === "iso" ? [n.dirLba, n.dirSize] : [n.jDirLba, n.jDirSize]) : [n.dataLba, n.dataSize];
    return encodeRecord({
      lba: extent,
      size,
      mtime: n.entry.mtime,
      flags: isDir ? FLAG_DIRECTORY : 0,
      name: tree === "iso" ? n.iso : n.joliet!,
      ...(tree === "iso" ? { systemUse: suBytes(n.inline, n.overflow) } : {}),
    });
  };
  const dotRecords = (d: Node, tree: "iso" | "joliet"): Buffer[] => {
    const parent = d.parent ?? d;
    const [dl, ds, pl, ps] = tree === "iso" ? [d.dirLba, d.dirSize, parent.dirLba, parent.dirSize] : [d.jDirLba, d.jDirSize, parent.jDirLba, parent.jDirSize];
    const iso = tree === "iso";
    return [
      encodeRecord({ lba: dl, size: ds, mtime: d.entry.mtime, flags: FLAG_DIRECTORY, name: Buffer.from([0]), ...(iso ? { systemUse: suBytes(d.dotSu!.inline, d.dotSu!.overflow) } : {}) }),
      encodeRecord({ lba: pl, size: ps, mtime: parent.entry.mtime, flags: FLAG_DIRECTORY, name: Buffer.from([1]), ...(iso ? { systemUse: suBytes(d.dotdotSu!.inline, d.dotdotSu!.overflow) } : {}) }),
    ];
  };
  const directoryExtent = (d: Node, tree: "iso" | "joliet"): Buffer => {
    const out = Buffer.alloc(tree === "iso" ? d.dirSize : d.jDirSize);
    let at = 0;
    for (const r of [...dotRecords(d, tree), ...sortedChildren(d, tree).map((c) => recordOf(c, tree))]) {
      if ((at % SECTOR) + r.length > SECTOR) at = Math.ceil(at / SECTOR) * SECTOR;
      r.copy(out, at);
      at += r.length;
    }
    return out;
  };
  const pathTable = (dirs: Node[], key: "iso" | "joliet", bigEndian: boolean): Buffer => {
    const number = new Map(dirs.map((d, i) => [d, i + 1]));
    const parts = dirs.map((d) => {
      const id = d === root ? Buffer.from([0]) : d[key]!;
      const b = Buffer.alloc(8 + id.length + (id.length % 2));
      b[0] = id.length;
      const extent = key === "iso" ? d.dirLba : d.jDirLba;
      if (bigEndian) b.writeUInt32BE(extent, 2);
      else b.writeUInt32LE(extent, 2);
      const parentNo = number.get(d.parent ?? d)!;
      if (bigEndian) b.writeUInt16BE(parentNo, 6);
      else b.writeUInt16LE(parentNo, 6);
      id.copy(b, 8);
      return b;
    });
    const table = Buffer.concat(parts);
    return Buffer.concat([table, Buffer.alloc(sectorsFor(table.length) * SECTOR - table.length)]);
  };

  // Emit, in LBA order.
  const volume: VolumeInfo = {
    systemId: opts.volume?.systemId ?? "LINUX",
    volumeId: opts.volume?.volumeId ?? "CDROM",
    volumeSetId: opts.volume?.volumeSetId ?? "",
    publisherId: opts.volume?.publisherId ?? "",
    preparerId: opts.volume?.preparerId ?? "",
    applicationId: opts.volume?.applicationId ?? "MKBUNDLE",
  };
  const rootRecord = (tree: "iso" | "joliet") => encodeRecord({ lba: tree === "iso" ? root.dirLba : root.jDirLba, size: tree === "iso" ? root.dirSize : root.jDirSize, mtime: root.entry.mtime, flags: FLAG_DIRECTORY, name: Buffer.from([0]) });

  const systemArea = Buffer.alloc(16 * SECTOR);
  if (hybrid) {
    // The disk id depends on the volume and its size, not on dates: a new epoch changes only dates.
    const seed = createHash("sha256").update(`${volume.volumeId}\0${totalSectors}`).digest("hex");
    hybridMbr(opts.hybridMbrCode!, byPath.get(boot!.imagePath)!.dataLba, totalSectors * SECTOR, seed).copy(systemArea);
  }
  yield systemArea;
  yield encodePrimaryLike({ type: 1, info: volume, volumeSpaceSize: totalSectors, pathTableSize: pSize, lPathLba: pL, mPathLba: pM, rootRecord: rootRecord("iso"), epoch: opts.epoch });
  if (boot) yield encodeBootRecord(catalogLba);
  if (joliet) {
    yield encodePrimaryLike({ type: 2, info: volume, volumeSpaceSize: totalSectors, pathTableSize: jSize, lPathLba: jL, mPathLba: jM, rootRecord: rootRecord("joliet"), epoch: opts.epoch });
  }
  yield encodeTerminator();
  for (const t of [pathTable(primaryDirs, "iso", false), pathTable(primaryDirs, "iso", true)]) yield t;
  if (joliet) for (const t of [pathTable(jolietDirs, "joliet", false), pathTable(jolietDirs, "joliet", true)]) yield t;
  if (boot) {
    const image = byPath.get(boot.imagePath)!;
    yield encodeCatalog({ platform: boot.platform ?? 0, mediaType: 0, loadSegment: boot.loadSegment ?? 0, systemType: 0, sectorCount: boot.sectorCount ?? 4, loadRba: image.dataLba });
  }
  for (const d of primaryDirs) {
    yield directoryExtent(d, "iso");
    yield* d.ce;
  }
  for (const d of jolietDirs) yield directoryExtent(d, "joliet");
  let written = lba - dataFiles.reduce((n, f) => n + sectorsFor(f.dataSize), 0);
  for (const n of dataFiles) {
    if (n.dataLba !== written && n.dataSize > 0) throw new Error(`iso9660 writer: layout mismatch at '${n.entry.path}'`);
    if (n.dataSize === 0) continue;
    let got = 0;
    if (boot && n.entry.path === boot.imagePath) {
      const img = boot.bootInfoTable === false ? bootImage! : patchBootInfoTable(bootImage!, FIRST_DESCRIPTOR_LBA, n.dataLba);
      yield img;
      got = img.length;
    } else if (Buffer.isBuffer(n.entry.data)) {
      yield n.entry.data;
      got = n.entry.data.length;
    } else if (n.entry.data) {
      for await (const chunk of n.entry.data()) {
        const c = chunk as Buffer;
        got += c.length;
        if (got > n.dataSize) break;
        yield c;
      }
    }
    if (got !== n.dataSize) throw new FormatError("iso9660", `'${printable(n.entry.path)}' delivered ${got} bytes, its entry says ${n.dataSize}`);
    const pad = sectorsFor(n.dataSize) * SECTOR - n.dataSize;
    if (pad) yield Buffer.alloc(pad);
    written += sectorsFor(n.dataSize);
  }
  if (totalSectors > written) yield Buffer.alloc((totalSectors - written) * SECTOR);
}

/** Writes the ISO to a temporary file beside `path`, renamed into place when complete. */
export async function writeIsoFile(path: string, entries: readonly Entry[], opts: IsoWriteOptions): Promise<void> {
  await writeFileAtomic(path, writeIso(entries, opts));
}
