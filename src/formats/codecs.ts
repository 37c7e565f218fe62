// Every container format by name, and which one a byte string is: decided by content, never
// by a file name, each codec recognising its own (detection lives in the codecs). gzip is
// a compression around a container (an initrd, a tar.gz), opened before the codecs look.
import type { ArchiveKind, Codec } from "./codec.js";
import { cpio } from "./cpio/codec.js";
import { ext2 } from "./ext2/codec.js";
import { fat } from "./fat/codec.js";
import { isGzip } from "./gzip/member.js";
import { iso9660 } from "./iso9660/codec.js";
import { squashfs } from "./squashfs/codec.js";
import { tar } from "./tar/codec.js";

export type ContainerKind = "gzip" | ArchiveKind;

/**
 * In the order they are asked: an isohybrid ISO also ends its first sector in 55 AA, so ISO
 * before FAT; ext2's magic sits 1080 bytes in, where an ISO has only zeros.
 */
export const CODECS: readonly Pick<Codec, "name" | "detect" | "read">[] = [cpio, squashfs, tar, iso9660, fat, ext2];

/** Which container a byte string starts with. */
export function detectContainer(head: Buffer): ContainerKind | undefined {
  if (isGzip(head)) return "gzip";
  return CODECS.find((c) => c.detect(head))?.name;
}

export const codecOf = (kind: ArchiveKind): Pick<Codec, "name" | "detect" | "read"> =>
  CODECS.find((c) => c.name === kind)!;
