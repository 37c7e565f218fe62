// FileTree: Entries by path. One merge rule (later wins; a directory that already exists
// keeps its mode and owner), one iteration order (byte order of the path).
import type { Entry } from "./entry.js";

export type FileTree = Map<string, Entry>;

/** Entries in byte order of their UTF-8 paths (each path encoded once, not once per comparison). */
export function sortedByPathBytes(entries: Iterable<Entry>): Entry[] {
  return [...entries]
    .map((e) => ({ e, key: Buffer.from(e.path) }))
    .sort((a, b) => Buffer.compare(a.key, b.key))
    .map((k) => k.e);
}

export function treeOf(entries: Iterable<Entry>): FileTree {
  const t: FileTree = new Map();
  for (const e of entries) mergeEntry(t, e);
  return t;
}

export function mergeEntry(t: FileTree, e: Entry): void {
  const existing = t.get(e.path);
  if (existing?.type === "dir" && e.type === "dir")
    t.set(e.path, { ...e, mode: existing.mode, uid: existing.uid, gid: existing.gid });
  else t.set(e.path, e);
}

export const sorted = (t: FileTree): Entry[] => sortedByPathBytes(t.values());

export const parentsOf = (path: string): string[] => {
  const parts = path.split("/");
  return parts.slice(0, -1).map((_, i) => parts.slice(0, i + 1).join("/"));
};

/**
 * Adds the parent directories of `path` that `t` lacks: as the base has them (mode and
 * owner untouched) or, for new ones, root-owned 0755 at `mtime`.
 */
export function addParents(t: FileTree, path: string, base: FileTree, mtime: number): void {
  for (const p of parentsOf(path)) {
    if (t.has(p)) continue;
    const b = base.get(p);
    t.set(
      p,
      b && b.type === "dir"
        ? { path: p, type: "dir", mode: b.mode, uid: b.uid, gid: b.gid, mtime: b.mtime, size: 0 }
        : { path: p, type: "dir", mode: 0o755, uid: 0, gid: 0, mtime, size: 0 },
    );
  }
}
