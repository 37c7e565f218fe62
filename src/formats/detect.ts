// Which container a byte string is, decided by content, never by file name.
import { isGzip } from "./gzip/reader.js";
import { isSquashfs } from "./squashfs/superblock.js";
import { isTar } from "./tar/reader.js";

export type ContainerKind = "gzip" | "cpio" | "squashfs" | "tar" | "iso9660";

export function detectContainer(head: Buffer): ContainerKind | undefined {
  if (isGzip(head)) return "gzip";
  const magic = head.toString("latin1", 0, 6);
  if (magic === "070701" || magic === "070702") return "cpio";
  if (isSquashfs(head)) return "squashfs";
  if (isTar(head)) return "tar";
  if (head.length >= 32774 && head.toString("latin1", 32769, 32774) === "CD001") return "iso9660";
  return undefined;
}
