// prune: on builtin extensions that stay loop-mounted: each one a rule takes files out of is
// written again, as a squashfs of what is left (our writer: the same files give the same
// bytes), with its .md5.txt; the others stay byte for byte. Local extensions are the
// manifest's own and are never pruned.
import type { ReadLimits } from "../formats/limits.js";
import { writeSquashfsFile } from "../formats/squashfs/writer.js";
import { fileSource } from "../io/byte-source.js";
import { hashFile } from "../io/hash.js";
import { tempPath } from "../io/temp.js";
import type { Lock } from "../lock/lock-file.js";
import { extensionFiles } from "../tinycore/extension-files.js";
import { BUILTIN_OPTIONAL, extensionPath } from "../tinycore/layout.js";
import { md5FileText } from "../tinycore/md5-file.js";
import { fileEntry, fileFrom, openContent, type Entry } from "../tree/entry.js";
import { prune, type PruneRule } from "../tree/prune.js";

/** Builtin extensions that may be pruned: the lock's, less the manifest's local ones. */
export const prunableBuiltins = (lock: Lock, local: readonly string[]): string[] =>
  lock.extensions.filter((x) => x.role === "builtin" && !local.includes(x.name)).map((x) => x.name);

/** The overlay with each pruned builtin .tcz (and its .md5.txt) replaced by its repacked self. */
export async function repackPrunedBuiltins(
  overlay: readonly Entry[],
  names: readonly string[],
  rules: readonly PruneRule[],
  epoch: number,
  limits: ReadLimits,
): Promise<Entry[]> {
  if (!rules.length) return [...overlay];
  const byPath = new Map(overlay.map((e) => [e.path, e]));
  for (const name of names) {
    const path = extensionPath(BUILTIN_OPTIONAL, name);
    const tcz = byPath.get(path);
    if (!tcz) continue; // the bundle's own check names a missing one
    const { kept, removed } = prune(await extensionFiles(name, openContent(tcz), limits), rules);
    if (!removed.size) continue;
    const file = tempPath(`${name}.tcz`);
    await writeSquashfsFile(kept, file, { epoch });
    const { md5 } = await hashFile(file);
    byPath.set(path, fileFrom(path, fileSource(file), epoch, tcz.mode, tcz.uid, tcz.gid));
    const md5Path = extensionPath(BUILTIN_OPTIONAL, name, ".md5.txt");
    byPath.set(md5Path, fileEntry(md5Path, Buffer.from(md5FileText(md5, `${name}.tcz`)), epoch));
  }
  return [...byPath.values()];
}
