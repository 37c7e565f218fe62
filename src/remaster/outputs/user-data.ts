// A data partition in --out is the user's once a guest has written to it: a build may replace
// it only while it is still exactly what a build wrote (an empty file system, with its own
// size, label and date), or with --force. Whatever the new build would write instead.
import { existsSync } from "node:fs";
import { MkError } from "../../errors.js";
import { decodeSuperblock } from "../../formats/ext2/reader.js";
import { ext2Image } from "../../formats/ext2/writer.js";
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
  const fresh = ext2Image([], {
    epoch: sb.made,
    size: part.size,
    blockSize: sb.blockSize,
    label: sb.label,
  });
  if (fresh.size !== part.size) return false;
  const [a, b] = await Promise.all([hashSource(part), hashSource(fresh.source())]);
  return a === b;
}
