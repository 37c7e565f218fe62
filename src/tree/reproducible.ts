// The one transform that makes an archive reproducible, whatever wrote its entries: a
// canonical order (byte order of the path) and no time later than the build's epoch.
import type { Entry } from "./entry.js";
import { sortedByPathBytes } from "./file-tree.js";

export function reproducible(entries: Iterable<Entry>, opts: { epoch: number }): Entry[] {
  return sortedByPathBytes([...entries].map((e) => (e.mtime > opts.epoch ? { ...e, mtime: opts.epoch } : e)));
}
