// The directory tree a file-system writer lays out (squashfs, ext2): implicit parents added
// (dated by the epoch), a directory's own entry replacing its implicit one, names sorted by
// their bytes, and a hard link made a second directory entry for its target's inode (the
// target's link count raised), never an inode of its own.
import { FormatError } from "../errors.js";
import { printable, type Entry, type EntryType } from "./entry.js";

export type InodeKind = Exclude<EntryType, "hardlink">;

export interface InodeNode<N> {
  entry: Entry;
  kind: InodeKind;
  name: string;
  children: N[];
  parent?: N;
  links: number;
  /** Set on a hard link's directory entry: the node whose inode it names. */
  alias?: N;
}

/** The inode a directory entry names: itself, or the target of a hard link. */
export const inodeOf = <N extends InodeNode<N>>(n: N): N => n.alias ?? n;

export function inodeTree<N extends InodeNode<N>>(
  entries: readonly Entry[],
  o: {
    format: string;
    epoch: number;
    /** The longest name the format stores, in bytes. */
    maxName: number;
    /** A node with the format's own fields added. */
    make: (entry: Entry, kind: InodeKind, name: string, parent?: N) => N;
  },
): { root: N; byPath: Map<string, N> } {
  const dirEntry = (path: string): Entry => ({
    path,
    type: "dir",
    mode: 0o755,
    uid: 0,
    gid: 0,
    mtime: o.epoch,
    size: 0,
  });
  const root = o.make(dirEntry(""), "dir", "");
  const byPath = new Map<string, N>([["", root]]);
  const add = (parent: N, made: N, path: string) => {
    parent.children.push(made);
    byPath.set(path, made);
    return made;
  };
  const dirOf = (path: string): N => {
    const found = byPath.get(path);
    if (found) {
      if (found.kind !== "dir") throw new FormatError(o.format, `'${printable(path)}' is both a file and a directory`);
      return found;
    }
    const slash = path.lastIndexOf("/");
    const parent = dirOf(slash < 0 ? "" : path.slice(0, slash));
    return add(parent, o.make(dirEntry(path), "dir", path.slice(slash + 1), parent), path);
  };
  const parentOf = (path: string) => dirOf(path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : "");
  const hardlinks: Entry[] = [];
  for (const e of entries) {
    if (e.path === "") {
      if (e.type === "dir") root.entry = e;
      continue;
    }
    if (e.type === "hardlink") {
      hardlinks.push(e);
      continue;
    }
    const name = e.path.slice(e.path.lastIndexOf("/") + 1);
    if (Buffer.byteLength(name) > o.maxName)
      throw new FormatError(o.format, `'${printable(e.path)}': a name is at most ${o.maxName} bytes`);
    const existing = byPath.get(e.path);
    if (existing && e.type === "dir" && existing.kind === "dir") {
      existing.entry = e;
      continue;
    }
    if (existing) throw new FormatError(o.format, `'${printable(e.path)}' appears twice`);
    const parent = parentOf(e.path);
    add(parent, o.make(e, e.type, name, parent), e.path);
  }
  for (const e of hardlinks) {
    const target = byPath.get(e.linkTarget ?? "");
    if (!target || target.kind === "dir")
      throw new FormatError(
        o.format,
        `hard link '${printable(e.path)}' names '${printable(e.linkTarget ?? "")}', which is not a file here`,
      );
    if (byPath.has(e.path)) throw new FormatError(o.format, `'${printable(e.path)}' appears twice`);
    const parent = parentOf(e.path);
    const name = e.path.slice(e.path.lastIndexOf("/") + 1);
    parent.children.push({ ...target, name, parent, children: [], alias: target });
    byPath.set(e.path, target);
    target.links++;
  }
  const byName = (a: N, b: N) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name));
  const sortAll = (n: N) => {
    n.children.sort(byName);
    n.children.forEach(sortAll);
  };
  sortAll(root);
  return { root, byPath };
}
