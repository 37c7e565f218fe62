// persist.seed: the files a new data partition starts with, laid out as the partition holds
// them (home/…, opt/…: tc-config bind-mounts the partition's home and opt over /home and
// /opt). The directories they imply take their file's owner, so tc can write in a home the
// seed made (tc-functions' setupHome sets owners only in an empty home); home and opt stay root's.
import type { Entry } from "../tree/entry.js";
import { parentsOf, sorted, sortedByPathBytes, type FileTree } from "../tree/file-tree.js";
import { fileEntries } from "./files.js";
import type { OverlayInput } from "./types.js";

export async function seedEntries(input: OverlayInput, problems: string[]): Promise<Entry[]> {
  const seed = input.manifest.persist?.seed ?? [];
  if (!seed.length) return [];
  const files = await fileEntries(input, problems, seed, (i) => `persist.seed[${i}]`);
  const tree: FileTree = new Map(files.map((f) => [f.path, f]));
  for (const f of sortedByPathBytes(files))
    for (const p of parentsOf(f.path)) {
      if (tree.has(p)) continue;
      const top = !p.includes("/");
      const [uid, gid] = top ? [0, 0] : [f.uid, f.gid];
      tree.set(p, { path: p, type: "dir", mode: 0o755, uid, gid, mtime: input.manifest.epoch, size: 0 });
    }
  return sorted(tree);
}
