// The one shape every container format has: detect it by content, read it as a stream of
// Entries within limits, write Entries (made reproducible first: canonical order, no time
// after the epoch) as a stream of bytes. A format's byte layout stays inside its folder.
import type { ByteSource } from "../io/byte-source.js";
import type { Entry } from "../tree/entry.js";
import type { ReadLimits } from "./limits.js";

export type ArchiveKind = "cpio" | "squashfs" | "tar" | "iso9660" | "fat" | "ext2";

export interface WrittenImage {
  /** Known before a byte is written, for formats that lay out first (ISO, FAT). */
  size?: number;
  stream(): AsyncGenerator<Buffer>;
}

export interface WriteOptions {
  /** The build's time: every entry's mtime is clamped to it, and dates the format itself records. */
  epoch: number;
}

export interface Codec<O extends WriteOptions = WriteOptions, W extends WrittenImage = WrittenImage> {
  readonly name: ArchiveKind;
  /** Whether `head` (the first DETECT_BYTES of a container, or all of a shorter one) is this format. */
  detect(head: Buffer): boolean;
  read(src: ByteSource, limits: ReadLimits): AsyncGenerator<Entry>;
  write(entries: Iterable<Entry>, options: O): W;
}

/** Bytes a codec needs to see to recognise its format (an ISO's first descriptor ends at 32774). */
export const DETECT_BYTES = 32774;
