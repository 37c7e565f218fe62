// The files of one extension (.tcz, a squashfs): a malformed or hostile one is named in the
// error, so a failure deep in a build says which download is at fault.
import { FormatError, MkError } from "../errors.js";
import { bufferSource, type ByteSource } from "../io/byte-source.js";
import { squashfs } from "../formats/squashfs/codec.js";
import type { ReadLimits } from "../formats/limits.js";
import { collect, type Entry } from "../tree/entry.js";

export async function extensionFiles(name: string, bytes: ByteSource | Buffer, limits: ReadLimits): Promise<Entry[]> {
  try {
    return await collect(squashfs.read(Buffer.isBuffer(bytes) ? bufferSource(bytes) : bytes, limits));
  } catch (e) {
    if (e instanceof FormatError) throw new MkError("format", `${name}.tcz (squashfs): ${e.detail}`);
    throw e;
  }
}

/** The regular file at `path` among an extension's entries, a hard link followed; or why there is none. */
export function fileInExtension(entries: readonly Entry[], path: string): Entry | "missing" | "dangling hard link" {
  const found = entries.find((e) => e.path === path);
  if (!found || (found.type !== "file" && found.type !== "hardlink")) return "missing";
  const target = found.type === "hardlink" ? entries.find((e) => e.path === found.linkTarget) : found;
  return target?.type === "file" ? target : "dangling hard link";
}
