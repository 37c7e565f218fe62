// The base ISO as the build needs it: its files, the default label's kernel and initrds,
// and the initrd's files (every archive of every initrd, later ones on top).
import { readCpio } from "../formats/cpio/reader.js";
import { gunzip, isGzip } from "../formats/gzip/reader.js";
import { openIso, type IsoImage } from "../formats/iso9660/reader.js";
import { readAllData, type Entry } from "../tree/entry.js";
import { treeOf, type FileTree } from "../tree/file-tree.js";
import { findBootFiles, type BootFiles } from "./boot-files.js";

export interface BaseImage {
  iso: IsoImage;
  boot: BootFiles;
  /** What the booted system starts with. */
  initrd: FileTree;
  /** Each initrd's bytes as on the ISO, in boot order. */
  initrdBytes: Buffer[];
  close(): void;
}

export async function readBaseImage(isoPath: string): Promise<BaseImage> {
  const iso = openIso(isoPath);
  try {
    return { ...(await baseImageOf(iso)), close: () => iso.close() };
  } catch (e) {
    iso.close();
    throw e;
  }
}

/** As readBaseImage, for an ISO already open (e.g. from a bundle in memory). */
export async function baseImageOf(iso: IsoImage): Promise<Omit<BaseImage, "close">> {
  const boot = await findBootFiles(iso.entries);
  const byPath = new Map(iso.entries.map((e) => [e.path, e]));
  const entries: Entry[] = [];
  const initrdBytes: Buffer[] = [];
  for (const path of boot.initrds) {
    const raw = await readAllData(byPath.get(path)!);
    initrdBytes.push(raw);
    for await (const e of readCpio(isGzip(raw) ? gunzip(raw) : raw)) entries.push(e);
  }
  return { iso, boot, initrd: treeOf(entries), initrdBytes };
}
