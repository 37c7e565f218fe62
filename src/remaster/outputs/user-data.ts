// A data partition in --out is the user's once a guest has written to it: a build may replace
// it only while it is still exactly what a build wrote, or with --force. "What a build wrote"
// is decided by the partition alone: the ext2 writer, given the files the partition holds
// (read back with the guarded reader) and its own size, label and date, writes the same bytes.
// Mounting it read-write is enough to differ (the superblock counts mounts), and so is any
// change to a file; a seed that changed in the manifest since does not matter.
import { existsSync } from "node:fs";
import { FormatError, MkError } from "../../errors.js";
import { decodeSuperblock, readExt2 } from "../../formats/ext2/reader.js";
import { DEFAULT_LIMITS } from "../../formats/limits.js";
import { collect } from "../../tree/entry.js";
import { ext2Image, type Ext2Image } from "../../formats/ext2/writer.js";
import { fileSource, sliceSource, type ByteSource } from "../../io/byte-source.js";
import { LINUX_PARTITION, mbrPartitions } from "../../formats/iso9660/hybrid.js";
import { hashSource } from "../../io/hash.js";

/**
 * Throws (exit 2) when `path` exists and its data partition (the whole file, or on a disk image
 * the MBR's Linux partition) holds anything a build did not write, unless `force`.
 */
export async function keepUserData(path: string, force: boolean, within: "file" | "disk"): Promise<void> {
  if (force || !existsSync(path)) return;
  const file = fileSource(path);
  try {
    const part = within === "file" ? file : linuxPartition(file);
    if (part && (await pristine(part))) return;
  } finally {
    file.close();
  }
  throw new MkError("input", `${path} holds data a build did not write (a guest's?): not replaced`, {
    hint: "move it away to keep it, or pass --force to replace it",
  });
}

function linuxPartition(disk: ByteSource): ByteSource | undefined {
  const p = mbrPartitions(disk.read(0, 512)).find((x) => x.type === LINUX_PARTITION);
  return p && (p.start + p.count) * 512 <= disk.size ? sliceSource(disk, p.start * 512, p.count * 512) : undefined;
}

async function pristine(part: ByteSource): Promise<boolean> {
  let sb;
  try {
    sb = decodeSuperblock(part);
  } catch {
    return false;
  }
  if (sb.blockSize !== 1024 && sb.blockSize !== 4096) return false;
  let fresh: Ext2Image;
  try {
    const entries = await collect(readExt2(part, DEFAULT_LIMITS));
    fresh = ext2Image(entries, { epoch: sb.made, size: part.size, blockSize: sb.blockSize, label: sb.label });
  } catch (e) {
    if (e instanceof FormatError) return false; // not what our writer makes: not a build's
    throw e;
  }
  if (fresh.size !== part.size) return false;
  // A mounted file system differs in its superblock: no need to read the rest.
  const head = Math.min(part.size, 4096);
  if (!fresh.source().read(0, head).equals(part.read(0, head))) return false;
  const [a, b] = await Promise.all([hashSource(part), hashSource(fresh.source())]);
  return a === b;
}
