// Every container format behind one shape: detected by content, read as a stream of Entries.
import type { Entry } from "../tree/entry.js";
import type { ByteSource } from "../io/byte-source.js";
import { readCpio } from "./cpio/reader.js";
import { isFat, readFat } from "./fat/reader.js";
import { isGzip } from "./gzip/reader.js";
import { readIso } from "./iso9660/reader.js";
import type { ReadLimits } from "./limits.js";
import { isSquashfs, readSquashfs } from "./squashfs/reader.js";
import { isTar } from "./tar/header.js";
import { readTar } from "./tar/reader.js";

export type ArchiveKind = "cpio" | "squashfs" | "tar" | "iso9660" | "fat";
export type ContainerKind = "gzip" | ArchiveKind;

/** Which container a byte string starts with; never decided by a file name. */
export function detectContainer(head: Buffer): ContainerKind | undefined {
  if (isGzip(head)) return "gzip";
  const magic = head.toString("latin1", 0, 6);
  if (magic === "070701" || magic === "070702") return "cpio";
  if (isSquashfs(head)) return "squashfs";
  if (isTar(head)) return "tar";
  if (head.length >= 32774 && head.toString("latin1", 32769, 32774) === "CD001") return "iso9660";
  if (isFat(head)) return "fat"; // after ISO: an isohybrid ISO also ends its first sector in 55 AA
  return undefined;
}

/** Bytes a reader needs to see to recognise its format (an ISO's first descriptor ends at 32774). */
export const DETECT_BYTES = 32774;

export const READERS: Record<ArchiveKind, (src: ByteSource, limits?: ReadLimits) => AsyncIterable<Entry>> = {
  cpio: (src, limits) => readCpio(src, limits),
  squashfs: (src, limits) => readSquashfs(src, limits),
  tar: (src) => readTar(src),
  iso9660: async function* (src, limits) {
    yield* readIso(src, limits).entries;
  },
  fat: async function* (src, limits) {
    yield* readFat(src, limits).entries;
  },
};
