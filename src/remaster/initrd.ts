// The initrd of a remaster: every archive of the base's initrd merged with the overlay into
// ONE newc cpio (full mode), or the overlay alone as a second archive that carries no
// entries for directories the base already has (--append-initrd). Written as a stream to a
// temporary file: the cpio is produced entry by entry, each file's data read when its turn
// comes, and compressed by content (chunks of already-compressed payloads such as .tcz,
// .gem, .gz are stored, the rest deflated at DEFAULT_LEVEL) in parallel over a bounded window.
import { fileSource, type ByteSource } from "../io/byte-source.js";
import { cpio } from "../formats/cpio/codec.js";
import { defaultThreads, gzipStream } from "../formats/gzip/writer.js";
import type { Entry } from "../tree/entry.js";
import { mergeEntry, treeOf, type FileTree } from "../tree/file-tree.js";
import { tempPath } from "../io/temp.js";
import { writeNewFile } from "../io/write-atomic.js";

export function mergedInitrd(base: FileTree, overlay: readonly Entry[]): Entry[] {
  const t = treeOf(base.values());
  for (const e of overlay) mergeEntry(t, e);
  return [...t.values()];
}

/** The overlay as a second archive: directories the base has are left out (their mode and owner stay the base's). */
export function appendArchiveEntries(base: FileTree, overlay: readonly Entry[]): Entry[] {
  return overlay.filter((e) => !(e.type === "dir" && base.get(e.path)?.type === "dir"));
}

export interface Initrd {
  source: ByteSource;
  sha256: string;
  size: number;
}

export async function compressArchive(
  entries: readonly Entry[],
  epoch: number,
  threads = defaultThreads(),
): Promise<Initrd> {
  const path = tempPath("initrd.gz");
  const written = await writeNewFile(
    path,
    gzipStream(cpio.write(entries, { epoch, reuseBuffer: true }).stream(), { threads, byContent: true }),
  );
  return { source: fileSource(path), ...written };
}
