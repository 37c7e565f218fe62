// Reproducible ISO 9660 writer: primary tree with Rock Ridge, a Joliet tree, L and M path
// tables, El Torito no-emulation boot with a patched boot-info-table, optional isohybrid
// MBR. Every date comes from the entries or the caller, never the clock. The work is done
// in steps: the tree and its names (write-tree), Rock Ridge placement (write-rock-ridge),
// the sector layout (write-layout), and here the bytes, in sector order, file data
// streamed from the entries.
import { createHash } from "node:crypto";
import { FormatError } from "../../errors.js";
import { contentChunks, printable, type Entry } from "../../tree/entry.js";
import {
  encodeBootRecord,
  encodePrimaryLike,
  encodeTerminator,
  FIRST_DESCRIPTOR_LBA,
  SECTOR,
  type VolumeInfo,
} from "./descriptors.js";
import { encodeRecord, FLAG_DIRECTORY } from "./directory-record.js";
import { encodeCatalog, patchBootInfoTable, PLATFORM_EFI, sectionSectorCount } from "./el-torito.js";
import { hybridMbr } from "./hybrid.js";
import { layOut, sectorsFor } from "./write-layout.js";
import { placeRockRidge, suBytes } from "./write-rock-ridge.js";
import { isoTree, sortedChildren, type Node } from "./write-tree.js";

interface IsoBootOptions {
  /** Path of the boot image (isolinux.bin) among the entries. */
  imagePath: string;
  /** Path at which the boot catalog appears; written by the writer. */
  catalogPath: string;
  loadSegment?: number;
  sectorCount?: number;
  platform?: number;
  /** Patch the boot-info-table into the image (isolinux needs it). Default true. */
  bootInfoTable?: boolean;
  /** Path of an EFI System Partition image among the entries: a second, UEFI boot entry (and partition). */
  efiImagePath?: string;
}

export interface IsoWriteOptions {
  /** Seconds since 1970 for the volume descriptors' dates: SOURCE_DATE_EPOCH. */
  epoch: number;
  volume?: Partial<VolumeInfo>;
  boot?: IsoBootOptions;
  /** Boot code (bytes 0..431) of an isohybrid MBR to write into the system area; needs boot. */
  hybridMbrCode?: Buffer;
  /** A partition that follows the image on a disk (a data partition): its MBR entry, after the image's. */
  appendedPartition?: { bytes: number; type: number };
  joliet?: boolean;
  /**
   * Files whose bytes lie inside another entry's data at a 2 KiB-aligned offset (the kernel and
   * initrds inside the ESP): their records point there and no second copy is written.
   */
  within?: ReadonlyMap<string, { host: string; offset: number }>;
  /**
   * Read file data that has random access (Entry.source) into one reused buffer: only for a
   * consumer done with each chunk before it asks for the next (see borrowedPieces).
   */
  reuseBuffer?: boolean;
}

/** The directory tree and its place on disk: what writing starts from, and what the size comes from. */
async function planIso(entries: readonly Entry[], opts: IsoWriteOptions) {
  const joliet = opts.joliet ?? true;
  const boot = opts.boot;
  const tree = await isoTree(entries, { epoch: opts.epoch, joliet, ...(boot ? { boot } : {}) });
  placeRockRidge(tree);
  const hybrid = !!(opts.hybridMbrCode && boot);
  const efiPath = boot?.efiImagePath;
  if (efiPath && tree.byPath.get(efiPath)?.entry.type !== "file")
    throw new FormatError("iso9660", `EFI boot image '${printable(efiPath)}' is not a file among the entries`);
  const layout = layOut(tree, {
    joliet,
    ...(boot ? { boot } : {}),
    hybrid,
    ...(efiPath ? { last: [efiPath] } : {}),
    ...(opts.within ? { within: opts.within } : {}),
  });
  return { joliet, boot, tree, hybrid, efiPath, layout };
}

/** The bytes writeIso would write, from the layout alone (an appended partition not counted). */
export async function isoSize(entries: readonly Entry[], opts: IsoWriteOptions): Promise<number> {
  return (await planIso(entries, opts)).layout.totalSectors * SECTOR;
}

export async function* writeIso(entries: readonly Entry[], opts: IsoWriteOptions): AsyncGenerator<Buffer> {
  const { joliet, boot, tree, hybrid, efiPath, layout } = await planIso(entries, opts);
  const efi = efiPath ? tree.byPath.get(efiPath) : undefined;
  const { root, byPath } = tree;
  const { primaryDirs, jolietDirs, catalogLba, dataFiles, totalSectors } = layout;
  const bootImage = tree.bootImage;

  // Records.
  const recordOf = (n: Node, tree: "iso" | "joliet"): Buffer => {
    const isDir = n.entry.type === "dir";
    const [extent, size] = isDir
      ? tree === "iso"
        ? [n.dirLba, n.dirSize]
        : [n.jDirLba, n.jDirSize]
      : [n.dataLba, n.dataSize];
    return encodeRecord({
      lba: extent,
      size,
      mtime: n.entry.mtime,
      flags: isDir ? FLAG_DIRECTORY : 0,
      name: tree === "iso" ? n.iso : n.joliet!,
      ...(tree === "iso" ? { systemUse: suBytes(n.su) } : {}),
    });
  };
  const dotRecords = (d: Node, tree: "iso" | "joliet"): Buffer[] => {
    const parent = d.parent ?? d;
    const [dl, ds, pl, ps] =
      tree === "iso"
        ? [d.dirLba, d.dirSize, parent.dirLba, parent.dirSize]
        : [d.jDirLba, d.jDirSize, parent.jDirLba, parent.jDirSize];
    const iso = tree === "iso";
    return [
      encodeRecord({
        lba: dl,
        size: ds,
        mtime: d.entry.mtime,
        flags: FLAG_DIRECTORY,
        name: Buffer.from([0]),
        ...(iso ? { systemUse: suBytes(d.dotSu!) } : {}),
      }),
      encodeRecord({
        lba: pl,
        size: ps,
        mtime: parent.entry.mtime,
        flags: FLAG_DIRECTORY,
        name: Buffer.from([1]),
        ...(iso ? { systemUse: suBytes(d.dotdotSu!) } : {}),
      }),
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
  const rootRecord = (tree: "iso" | "joliet") =>
    encodeRecord({
      lba: tree === "iso" ? root.dirLba : root.jDirLba,
      size: tree === "iso" ? root.dirSize : root.jDirSize,
      mtime: root.entry.mtime,
      flags: FLAG_DIRECTORY,
      name: Buffer.from([0]),
    });

  const systemArea = Buffer.alloc(16 * SECTOR);
  if (hybrid && boot) {
    // The disk id depends on the volume and its size, not on dates: a new epoch changes only dates.
    const seed = createHash("sha256").update(`${volume.volumeId}\0${totalSectors}`).digest("hex");
    hybridMbr(
      opts.hybridMbrCode!,
      byPath.get(boot.imagePath)!.dataLba,
      totalSectors * SECTOR,
      seed,
      efi ? { lba: efi.dataLba, bytes: efi.dataSize } : undefined,
      opts.appendedPartition,
    ).copy(systemArea);
  }
  yield systemArea;
  const { primary: pt, joliet: jt } = layout.pathTables;
  yield encodePrimaryLike({
    type: 1,
    info: volume,
    volumeSpaceSize: totalSectors,
    pathTableSize: pt.size,
    lPathLba: pt.l,
    mPathLba: pt.m,
    rootRecord: rootRecord("iso"),
    epoch: opts.epoch,
  });
  if (boot) yield encodeBootRecord(catalogLba);
  if (joliet) {
    yield encodePrimaryLike({
      type: 2,
      info: volume,
      volumeSpaceSize: totalSectors,
      pathTableSize: jt.size,
      lPathLba: jt.l,
      mPathLba: jt.m,
      rootRecord: rootRecord("joliet"),
      epoch: opts.epoch,
    });
  }
  yield encodeTerminator();
  for (const t of [pathTable(primaryDirs, "iso", false), pathTable(primaryDirs, "iso", true)]) yield t;
  if (joliet) for (const t of [pathTable(jolietDirs, "joliet", false), pathTable(jolietDirs, "joliet", true)]) yield t;
  if (boot) {
    const image = byPath.get(boot.imagePath)!;
    yield encodeCatalog(
      {
        platform: boot.platform ?? 0,
        mediaType: 0,
        loadSegment: boot.loadSegment ?? 0,
        systemType: 0,
        sectorCount: boot.sectorCount ?? 4,
        loadRba: image.dataLba,
      },
      efi ? [{ platform: PLATFORM_EFI, sectorCount: sectionSectorCount(efi.dataSize), loadRba: efi.dataLba }] : [],
    );
  }
  for (const d of primaryDirs) {
    yield directoryExtent(d, "iso");
    yield* d.ce;
  }
  for (const d of jolietDirs) yield directoryExtent(d, "joliet");
  const scratch = opts.reuseBuffer ? Buffer.allocUnsafe(1 << 20) : undefined;
  let written = layout.end - dataFiles.reduce((n, f) => n + sectorsFor(f.dataSize), 0);
  for (const n of dataFiles) {
    if (n.dataLba !== written && n.dataSize > 0)
      throw new Error(`iso9660 writer: layout mismatch at '${n.entry.path}'`); // a bug, not an input problem
    if (n.dataSize === 0) continue;
    let got = 0;
    if (boot && n.entry.path === boot.imagePath) {
      const img =
        boot.bootInfoTable === false ? bootImage! : patchBootInfoTable(bootImage!, FIRST_DESCRIPTOR_LBA, n.dataLba);
      yield img;
      got = img.length;
    } else {
      for await (const c of contentChunks(n.entry, scratch)) {
        got += c.length;
        if (got > n.dataSize) break;
        yield c;
      }
    }
    if (got !== n.dataSize)
      throw new FormatError(
        "iso9660",
        `'${printable(n.entry.path)}' delivered ${got} bytes, its entry says ${n.dataSize}`,
      );
    const pad = sectorsFor(n.dataSize) * SECTOR - n.dataSize;
    if (pad) yield Buffer.alloc(pad);
    written += sectorsFor(n.dataSize);
  }
  if (totalSectors > written) yield Buffer.alloc((totalSectors - written) * SECTOR);
}
