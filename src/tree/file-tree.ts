// FileTree: Entries by path. One merge rule (later wins; a directory that already exists
// keeps its mode and owner), one iteration order (byte order of the path).
import type { Entry } from "./entry.js";

export type FileTree = Map<string, Entry>;

export const byPathBytes = (a: Entry, b: Entry): number => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path));

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

export const sorted = (t: FileTree): Entry[] => [...t.values()].sort(byPathBytes);

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
