// The initrd of a remaster: every archive of the base's initrd merged with the overlay into
// ONE newc cpio (full mode), or the overlay alone as a second archive that carries no
// entries for directories the base already has (--append-initrd). Compressed by content:
// chunks of already-compressed payloads (.tcz, .gem, .gz) are stored, the rest at level 9.
import { writeCpio } from "../formats/cpio/writer.js";
import { gzipByContent } from "../formats/gzip/by-content.js";
import { defaultThreads } from "../formats/gzip/writer.js";
import type { Entry } from "../tree/entry.js";
import { mergeEntry, treeOf, type FileTree } from "../tree/file-tree.js";
import { reproducible } from "../tree/reproducible.js";

export function mergedInitrd(base: FileTree, overlay: readonly Entry[]): Entry[] {
  const t = treeOf(base.values());
  for (const e of overlay) mergeEntry(t, e);
  return [...t.values()];
}

/** The overlay as a second archive: directories the base has are left out (their mode and owner stay the base's). */
export function appendArchiveEntries(base: FileTree, overlay: readonly Entry[]): Entry[] {
  return overlay.filter((e) => !(e.type === "dir" && base.get(e.path)?.type === "dir"));
}

export async function compressArchive(
  entries: readonly Entry[],
  epoch: number,
  threads = defaultThreads(),
): Promise<Buffer> {
  return gzipByContent(writeCpio(reproducible(entries, { epoch })), threads);
}
