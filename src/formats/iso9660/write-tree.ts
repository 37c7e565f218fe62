// The ISO writer's first step: entries -> a tree of nodes with their ISO 9660 and Joliet
// identifiers, hard-link counts, and the boot catalog as a file of its own.
import { FormatError } from "../../errors.js";
import { printable, readContent, type Entry } from "../../tree/entry.js";
import { encodeUcs2, SECTOR } from "./descriptors.js";
import { isoName, jolietName, uniqueNames } from "./names.js";

/** Where a record's remaining Rock Ridge entries live: a continuation area of directory `dir`. */
export interface Overflow {
  dir: Node;
  sector: number;
  offset: number;
  length: number;
}

export interface PlacedSu {
  inline: Buffer[];
  overflow?: Overflow;
}

export interface Node {
  entry: Entry;
  name: string;
  parent?: Node;
  children: Node[];
  iso: Buffer; // primary identifier
  joliet?: Buffer;
  /** Rock Ridge of this node's own record, split between the record and a continuation area. */
  su: PlacedSu;
  /** Continuation sectors for the records in this directory, written right after its extent. */
  ce: Buffer[];
  // "." and ".." records of a directory carry Rock Ridge too
  dotSu?: PlacedSu;
  dotdotSu?: PlacedSu;
  dirLba: number;
  dirSize: number;
  jDirLba: number;
  jDirSize: number;
  dataLba: number;
  dataSize: number;
}

export interface IsoTree {
  root: Node;
  /** Every node, depth-first in identifier order. */
  all: Node[];
  byPath: Map<string, Node>;
  /** Link count of each node, as Rock Ridge's PX records it. */
  links(n: Node): number;
  /** The boot image's bytes (boot-info-table patched later), when booting. */
  bootImage?: Buffer;
}

function newNode(entry: Entry, name: string, parent?: Node): Node {
  return {
    entry,
    name,
    ...(parent ? { parent } : {}),
    children: [],
    ce: [],
    iso: Buffer.alloc(0),
    su: { inline: [] },
    dirLba: 0,
    dirSize: 0,
    jDirLba: 0,
    jDirSize: 0,
    dataLba: 0,
    dataSize: 0,
  };
}

function buildNodes(entries: readonly Entry[], epoch: number): Node {
  const byPath = new Map<string, Node>();
  const rootEntry = entries.find((e) => e.path === "") ?? {
    path: "",
    type: "dir",
    mode: 0o755,
    uid: 0,
    gid: 0,
    mtime: epoch,
    size: 0,
  };
  const root = newNode(rootEntry, "");
  byPath.set("", root);
  const ensureDir = (path: string): Node => {
    const found = byPath.get(path);
    if (found) {
      if (found.entry.type !== "dir")
        throw new FormatError("iso9660", `'${printable(path)}' is a ${found.entry.type} but has entries under it`);
      return found;
    }
    const slash = path.lastIndexOf("/");
    const parent = ensureDir(slash < 0 ? "" : path.slice(0, slash));
    const node = newNode(
      { path, type: "dir", mode: 0o755, uid: 0, gid: 0, mtime: epoch, size: 0 },
      path.slice(slash + 1),
      parent,
    );
    parent.children.push(node);
    byPath.set(path, node);
    return node;
  };
  for (const e of [...entries].sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)))) {
    if (e.path === "") continue;
    if (byPath.has(e.path)) {
      const existing = byPath.get(e.path)!;
      if (existing.entry.type === "dir" && e.type === "dir")
        existing.entry = e; // an implied parent, now described
      else throw new FormatError("iso9660", `'${printable(e.path)}' appears twice`);
      continue;
    }
    const slash = e.path.lastIndexOf("/");
    const parent = ensureDir(slash < 0 ? "" : e.path.slice(0, slash));
    const node = newNode(e, e.path.slice(slash + 1), parent);
    parent.children.push(node);
    byPath.set(e.path, node);
  }
  return root;
}

function assignNames(dir: Node, joliet: boolean): void {
  const kids = [...dir.children].sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)));
  const iso = uniqueNames(
    kids.map((k) => isoName(k.name, k.entry.type === "dir")),
    30,
  );
  kids.forEach((k, i) => (k.iso = Buffer.from(k.entry.type === "dir" ? iso[i]! : `${iso[i]};1`, "latin1")));
  if (joliet) {
    const visible = kids.filter(
      (k) => k.entry.type === "dir" || k.entry.type === "file" || k.entry.type === "hardlink",
    );
    const names = uniqueNames(
      visible.map((k) => jolietName(k.name)),
      64,
    );
    visible.forEach((k, i) => (k.joliet = encodeUcs2(names[i]!)));
  }
  for (const k of kids) if (k.entry.type === "dir") assignNames(k, joliet);
}

export function sortedChildren(n: Node, key: "iso" | "joliet"): Node[] {
  return n.children.filter((c) => key === "iso" || c.joliet).sort((a, b) => Buffer.compare(a[key]!, b[key]!));
}

/** Directories breadth-first, children in identifier order: the path table order. */
export function directories(root: Node, key: "iso" | "joliet"): Node[] {
  const out: Node[] = [root];
  for (let i = 0; i < out.length; i++) {
    for (const c of sortedChildren(out[i]!, key)) if (c.entry.type === "dir") out.push(c);
  }
  return out;
}

export async function isoTree(
  entries: readonly Entry[],
  opts: { epoch: number; joliet: boolean; boot?: { imagePath: string; catalogPath: string } },
): Promise<IsoTree> {
  const root = buildNodes(entries, opts.epoch);
  assignNames(root, opts.joliet);
  const walk = (): Node[] => {
    const out: Node[] = [];
    const visit = (n: Node) => {
      out.push(n);
      for (const c of sortedChildren(n, "iso")) visit(c);
    };
    visit(root);
    return out;
  };
  let all = walk();
  const byPath = new Map(all.map((n) => [n.entry.path, n]));

  // Boot: the catalog is a file the writer fills; the image gets its boot-info-table later.
  let bootImage: Buffer | undefined;
  if (opts.boot) {
    const { imagePath, catalogPath } = opts.boot;
    const image = byPath.get(imagePath);
    if (!image || image.entry.type !== "file")
      throw new FormatError("iso9660", `boot image '${printable(imagePath)}' is not a file among the entries`);
    bootImage = readContent(image.entry);
    if (!byPath.has(catalogPath)) {
      const slash = catalogPath.lastIndexOf("/");
      const parent = byPath.get(slash < 0 ? "" : catalogPath.slice(0, slash));
      if (!parent || parent.entry.type !== "dir")
        throw new FormatError("iso9660", `boot catalog '${printable(catalogPath)}' needs an existing directory`);
      const node = newNode(
        { path: catalogPath, type: "file", mode: 0o444, uid: 0, gid: 0, mtime: opts.epoch, size: SECTOR },
        catalogPath.slice(slash + 1),
        parent,
      );
      parent.children.push(node);
      assignNames(root, opts.joliet); // names again, with the catalog in its directory
      all = walk();
      byPath.set(catalogPath, node);
    }
  }

  // Hard links share their target's extent; Rock Ridge gets the group's link count.
  const nlink = new Map<string, number>();
  for (const n of all) {
    if (n.entry.type !== "hardlink") continue;
    const target = byPath.get(n.entry.linkTarget ?? "");
    if (!target || target.entry.type !== "file")
      throw new FormatError(
        "iso9660",
        `hard link '${printable(n.entry.path)}' names '${printable(n.entry.linkTarget ?? "")}', which is not a file`,
      );
    nlink.set(target.entry.path, (nlink.get(target.entry.path) ?? 1) + 1);
  }
  const links = (n: Node) =>
    n.entry.type === "hardlink"
      ? nlink.get(n.entry.linkTarget!)!
      : n.entry.type === "dir"
        ? 2 + n.children.filter((c) => c.entry.type === "dir").length
        : (nlink.get(n.entry.path) ?? 1);
  return { root, all, byPath, links, ...(bootImage ? { bootImage } : {}) };
}
