// Hard-link groups, as every writer needs them: a file and the hardlink entries that name
// it. Formats differ only in which member carries the data (tar: the first in archive
// order, newc: the last written, squashfs and ext2: one inode for all).
import { FormatError } from "../errors.js";
import { printable, type Entry } from "./entry.js";

export interface HardLinkGroup {
  /** The regular file the links name: its size and content are the group's. */
  file: Entry;
  /** The hardlink entries, in entry order. */
  links: Entry[];
  /** Every member, the file included, in entry order. */
  members: Entry[];
}

/** The group of every member of a hard-link group, by member path; a link to no file is an error of `format`. */
export function hardLinkGroups(entries: readonly Entry[], format: string): Map<string, HardLinkGroup> {
  const byPath = new Map(entries.map((e) => [e.path, e]));
  const links = new Map<string, Entry[]>(); // by the file's path
  for (const e of entries) {
    if (e.type !== "hardlink") continue;
    const target = byPath.get(e.linkTarget ?? "");
    if (!target || target.type !== "file")
      throw new FormatError(
        format,
        `hard link '${printable(e.path)}' names '${printable(e.linkTarget ?? "")}', which is not a file in the archive`,
      );
    links.set(target.path, [...(links.get(target.path) ?? []), e]);
  }
  const order = new Map(entries.map((e, i) => [e.path, i]));
  const groupOf = new Map<string, HardLinkGroup>();
  for (const [path, ls] of links) {
    const file = byPath.get(path)!;
    const members = [file, ...ls].sort((a, b) => order.get(a.path)! - order.get(b.path)!);
    const group = { file, links: ls, members };
    for (const m of members) groupOf.set(m.path, group);
  }
  return groupOf;
}
