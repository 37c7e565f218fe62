// ISO 9660 reader: Rock Ridge names and attributes when present, else Joliet, else plain
// ISO names; El Torito boot catalog; file data streamed from the image on demand.
import { normalizeEntryPath, printable, type Entry } from "../../tree/entry.js";
import { FormatError } from "../../errors.js";
import { fileSource, rangesSource, readInto, type ByteSource } from "../../io/byte-source.js";
import { budgetOf, DEFAULT_LIMITS, type ReadLimits } from "../limits.js";
import { decodeCatalog, type BootInfo } from "./el-torito.js";
import {
  decodePrimaryLike,
  decodeUcs2,
  EL_TORITO_ID,
  FIRST_DESCRIPTOR_LBA,
  SECTOR,
  type PrimaryLike,
  type VolumeInfo,
} from "./descriptors.js";
import {
  decodeRecord,
  FLAG_ASSOCIATED,
  FLAG_DIRECTORY,
  FLAG_MULTI_EXTENT,
  type DirectoryRecord,
} from "./directory-record.js";
import { continuationOf, decodeRockRidge, parseSusp, type RockRidge, type SuspEntry } from "./rock-ridge.js";

const MAX_DESCRIPTORS = 64;
const MAX_DEPTH = 64;
const MAX_CONTINUATIONS = 64;

export interface IsoImage {
  volume: VolumeInfo;
  /** Which names the entries carry. */
  naming: "rockridge" | "joliet" | "iso9660";
  entries: Entry[];
  boot?: BootInfo;
  /** Bytes 0..32767: boot code such as an isohybrid MBR lives here. */
  systemArea: Buffer;
  volumeSpaceSize: number;
  /** Where each file's bytes are in the image (two files may share them: a kernel inside efi.img). */
  extents: Map<string, { offset: number; length: number }[]>;
}

export const isIso9660 = (head: Buffer): boolean =>
  head.length >= 32774 && head.toString("latin1", 32769, 32774) === "CD001";

export async function readIso(src: ByteSource, limits: ReadLimits = DEFAULT_LIMITS): Promise<IsoImage> {
  const budget = budgetOf(limits);
  const sector = (lba: number, count = 1): Buffer => {
    const off = lba * SECTOR;
    if (lba < 0 || off + count * SECTOR > src.size)
      throw new FormatError(
        "iso9660",
        `sector ${lba}${count > 1 ? `+${count}` : ""} is past the end of the image (${src.size} bytes)`,
      );
    return src.read(off, count * SECTOR);
  };

  let primary: PrimaryLike | undefined;
  let joliet: PrimaryLike | undefined;
  let catalogLba: number | undefined;
  for (let i = 0; ; i++) {
    if (i >= MAX_DESCRIPTORS)
      throw new FormatError("iso9660", `no volume descriptor set terminator in ${MAX_DESCRIPTORS} sectors`);
    const lba = FIRST_DESCRIPTOR_LBA + i;
    if ((lba + 1) * SECTOR > src.size)
      throw new FormatError("iso9660", `truncated: volume descriptors end at sector ${lba} without a terminator`);
    const raw = sector(lba);
    if (raw.toString("latin1", 1, 6) !== "CD001")
      throw new FormatError("iso9660", `sector ${lba} is not a volume descriptor`);
    const type = raw[0]!;
    if (type === 255) break;
    if (type === 1 && !primary) primary = decodePrimaryLike({ type, lba, raw });
    else if (type === 2) {
      const d = decodePrimaryLike({ type, lba, raw });
      if (d.joliet && !joliet) joliet = d;
    } else if (type === 0 && raw.toString("latin1", 7, 7 + EL_TORITO_ID.length) === EL_TORITO_ID)
      catalogLba = raw.readUInt32LE(71);
  }
  if (!primary) throw new FormatError("iso9660", "no primary volume descriptor");

  /**
   * A directory's records, one at a time, read a sector at a time into one buffer: a walk
   * holds a sector per level, never a whole directory. Every sector read is counted:
   * directories whose extents overlap (each starting at another sector of one shared region)
   * cost each time they are read.
   */
  async function* readDirectory(lba: number, size: number, where: string): AsyncGenerator<DirectoryRecord> {
    if (size > 64 * 1024 * 1024)
      throw new FormatError("iso9660", `directory '${printable(where)}' claims ${size} bytes`);
    const sectors = Math.ceil(size / SECTOR);
    if (lba < 0 || (lba + sectors) * SECTOR > src.size) sector(lba, sectors); // the past-the-end error
    const data = Buffer.allocUnsafe(SECTOR);
    for (let s = 0; s < sectors; s++) {
      budget.visit("iso9660", SECTOR, `directory '${printable(where)}'`);
      await budget.pause();
      readInto(src, data, (lba + s) * SECTOR);
      const end = Math.min(SECTOR, size - s * SECTOR);
      // Records never cross a sector; a zero length byte pads to the next one.
      for (let at = 0; at < end && data[at]! !== 0;) {
        const r = decodeRecord(data.subarray(0, end), at);
        at += r.length;
        // Its own bytes: the buffer is read over while the walk goes on.
        yield { ...r, name: Buffer.from(r.name), systemUse: Buffer.from(r.systemUse) };
      }
    }
  }
  const firstRecord = async (lba: number, size: number, where: string): Promise<DirectoryRecord | undefined> => {
    for await (const r of readDirectory(lba, size, where)) return r;
    return undefined;
  };

  const rootRecord = decodeRecord(primary.rootRecord, 0);
  const dot = await firstRecord(rootRecord.lba, rootRecord.size, "/");
  const spSkip = dot
    ? parseSusp(dot.systemUse).find((e) => e.sig === "SP" && e.data[0] === 0xbe && e.data[1] === 0xef)?.data[2]
    : undefined;
  const rockRidge = spSkip !== undefined;
  const naming: IsoImage["naming"] = rockRidge ? "rockridge" : joliet ? "joliet" : "iso9660";
  const tree = naming === "joliet" ? joliet! : primary;

  const suspOf = (r: DirectoryRecord, where: string): SuspEntry[] => {
    if (!rockRidge) return [];
    const out = parseSusp(r.systemUse.subarray(spSkip ?? 0));
    const seen = new Set<string>();
    for (let i = 0; ; i++) {
      const ce = out.map(continuationOf).find((c) => c && !seen.has(`${c.lba}:${c.offset}`));
      if (!ce) break;
      if (i >= MAX_CONTINUATIONS)
        throw new FormatError(
          "iso9660",
          `'${printable(where)}': more than ${MAX_CONTINUATIONS} SUSP continuation areas`,
        );
      seen.add(`${ce.lba}:${ce.offset}`);
      budget.visit("iso9660", ce.length, `'${printable(where)}' (SUSP continuation area)`);
      if (ce.offset + ce.length > SECTOR * 16)
        throw new FormatError(
          "iso9660",
          `'${printable(where)}': SUSP continuation area of ${ce.length} bytes at offset ${ce.offset}`,
        );
      const area = sector(ce.lba, Math.ceil((ce.offset + ce.length) / SECTOR)).subarray(
        ce.offset,
        ce.offset + ce.length,
      );
      out.push(...parseSusp(area));
    }
    return out;
  };

  const nameOf = (r: DirectoryRecord, rr: RockRidge): string => {
    if (rr.name !== undefined) return rr.name;
    if (naming === "joliet") return decodeUcs2(r.name).replace(/;1$/, "");
    const plain = r.name.toString("latin1").replace(/;\d+$/, "").replace(/\.$/, "");
    return naming === "iso9660" ? plain.toLowerCase() : plain;
  };

  const entries: Entry[] = [];
  let dataBytes = 0;
  const pathAtLba = new Map<number, string>(); // first file at each extent: finds the boot image and catalog
  const fileExtents: IsoImage["extents"] = new Map();
  const volumeEnd = Math.max(tree.volumeSpaceSize, Math.ceil(src.size / SECTOR));
  const contentOf = (extents: DirectoryRecord[], path: string): (() => ByteSource) => {
    for (const x of extents) {
      if (x.size > 0 && (x.lba + Math.ceil(x.size / SECTOR)) * SECTOR > src.size)
        throw new FormatError(
          "iso9660",
          `'${printable(path)}': data at sector ${x.lba} (${x.size} bytes) is past the end of the image`,
        );
    }
    const ranges = extents.map((x) => ({ offset: x.lba * SECTOR, length: x.size }));
    fileExtents.set(path, ranges);
    return () => rangesSource(src, ranges);
  };

  // Each directory extent is expanded once: a second record pointing at it (a loop, or a
  // shared directory that would multiply the tree) is corruption.
  const expanded = new Set<number>();
  const walk = async (lba: number, size: number, prefix: string, depth: number): Promise<void> => {
    if (depth > MAX_DEPTH)
      throw new FormatError("iso9660", `directories nest deeper than ${MAX_DEPTH} at '${printable(prefix)}'`);
    if (expanded.has(lba))
      throw new FormatError(
        "iso9660",
        `directory '${printable(prefix) || "/"}' reuses the extent of another directory (a loop or a shared directory)`,
      );
    if (lba >= volumeEnd)
      throw new FormatError(
        "iso9660",
        `directory '${printable(prefix) || "/"}' at sector ${lba} is past the end of the volume`,
      );
    expanded.add(lba);
    const names = new Set<string>();
    // A file larger than one extent: records with the multi-extent flag, then the last one.
    let extents: DirectoryRecord[] = [];
    for await (const r of readDirectory(lba, size, prefix || "/")) {
      if (!extents.length) {
        if (r.name.length === 1 && (r.name[0] === 0 || r.name[0] === 1)) continue; // "." and ".."
        if (r.flags & FLAG_ASSOCIATED) continue;
      }
      extents.push(r);
      if (r.flags & FLAG_MULTI_EXTENT) continue;
      await visitRecord(extents, prefix, names, depth);
      extents = [];
    }
    if (extents.length) await visitRecord(extents, prefix, names, depth);
  };

  /** A directory record (with the extents that follow it) as an entry; a directory is walked at once. */
  const visitRecord = async (extents: DirectoryRecord[], prefix: string, names: Set<string>, depth: number) => {
    const r = extents[0]!;
    const rr = decodeRockRidge(suspOf(r, prefix));
    if (rr.relocated) return; // shown where its CL entry stands
    const name = nameOf(r, rr);
    if (name === "" || name === "." || name === ".." || name.includes("/") || name.includes("\0"))
      throw new FormatError("iso9660", `invalid name '${printable(name)}' in '${printable(prefix) || "/"}'`);
    if (names.has(name)) return; // Joliet/plain trees may repeat a truncated name
    names.add(name);
    const path = normalizeEntryPath("iso9660", prefix ? `${prefix}/${name}` : name);
    const isDir = rr.childLink !== undefined || (rr.type ? rr.type === "dir" : (r.flags & FLAG_DIRECTORY) !== 0);
    const entry: Entry = {
      path,
      type: isDir ? "dir" : (rr.type ?? "file"),
      mode: rr.mode ?? (isDir ? 0o555 : 0o444),
      uid: rr.uid ?? 0,
      gid: rr.gid ?? 0,
      mtime: rr.mtime ?? r.mtime,
      size: 0,
    };
    if (entry.type === "file") {
      entry.size = extents.reduce((n, x) => n + x.size, 0);
      // No file of a real ISO is larger than the image: more means extents used over and over.
      dataBytes += entry.size;
      if (entry.size > src.size || dataBytes > Math.max(limits.bytes, 2 * src.size)) {
        throw new FormatError(
          "iso9660",
          `'${printable(path)}': its files claim ${dataBytes} bytes in an image of ${src.size} (extents used over and over)`,
        );
      }
      entry.content = contentOf(extents, path);
      if (!pathAtLba.has(r.lba)) pathAtLba.set(r.lba, path);
    } else if (entry.type === "symlink") entry.linkTarget = rr.symlink ?? "";
    else if (entry.type === "char" || entry.type === "block")
      [entry.rdevMajor, entry.rdevMinor] = [rr.rdevMajor ?? 0, rr.rdevMinor ?? 0];
    if (entries.length >= limits.entries)
      throw new FormatError("iso9660", `more than ${limits.entries} entries (the limit for one container)`);
    entries.push(entry);
    if (!isDir) return;
    if (rr.childLink !== undefined) {
      const relocated = await firstRecord(rr.childLink, SECTOR, path);
      if (!relocated)
        throw new FormatError(
          "iso9660",
          `'${printable(path)}': relocated directory at sector ${rr.childLink} is empty`,
        );
      await walk(rr.childLink, relocated.size, path, depth + 1);
    } else await walk(r.lba, r.size, path, depth + 1);
  };

  const treeRoot = decodeRecord(tree.rootRecord, 0);
  const rootRr = decodeRockRidge(dot ? suspOf(dot, "/") : []);
  entries.push({
    path: "",
    type: "dir",
    mode: rootRr.mode ?? 0o555,
    uid: rootRr.uid ?? 0,
    gid: rootRr.gid ?? 0,
    mtime: rootRr.mtime ?? treeRoot.mtime,
    size: 0,
  });
  await walk(treeRoot.lba, treeRoot.size, "", 0);

  let boot: BootInfo | undefined;
  if (catalogLba !== undefined) {
    boot = decodeCatalog(sector(catalogLba), catalogLba);
    const image = pathAtLba.get(boot.loadRba);
    const catalog = pathAtLba.get(catalogLba);
    if (image) boot.imagePath = image;
    if (catalog) boot.catalogPath = catalog;
    for (const sec of boot.sections) {
      const path = pathAtLba.get(sec.loadRba);
      if (path) sec.imagePath = path;
    }
  }
  return {
    volume: (naming === "joliet" ? joliet! : primary).info,
    naming,
    entries,
    ...(boot ? { boot } : {}),
    systemArea: src.read(0, 16 * SECTOR),
    volumeSpaceSize: primary.volumeSpaceSize,
    extents: fileExtents,
  };
}

/** Opens an ISO on disk: entries whose data streams from the file, boot info, volume ids. */
export async function openIso(path: string): Promise<IsoImage & { close(): void }> {
  const src = fileSource(path);
  try {
    return { ...(await readIso(src)), close: () => src.close() };
  } catch (e) {
    src.close();
    throw e;
  }
}
