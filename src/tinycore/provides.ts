// The mirror's tcz/provides.db (what Tiny Core's provides.sh searches): blank-line separated
// records, the first line an extension's file name (readline.tcz), the rest its paths (with or
// without a leading slash). Advisory: it may lag the extensions themselves.

/** Which extensions ship a file with this name (a soname, a program): undefined without an index. */
export type Providers = (fileName: string) => Promise<{ extension: string; path: string }[] | undefined>;

export interface ProvidesIndex {
  /** Extensions and paths, by the file's name (its last path component). */
  byName: Map<string, { extension: string; path: string }[]>;
  /** Every record, for a search by pattern. */
  records: { extension: string; paths: string[] }[];
}

export function parseProvides(text: string): ProvidesIndex {
  const byName = new Map<string, { extension: string; path: string }[]>();
  const records: ProvidesIndex["records"] = [];
  for (const block of text.split(/\n\s*\n/)) {
    const lines = block
      .split("\n")
      .map((l) => l.trim())
      .filter(Boolean);
    const head = lines.shift();
    if (!head?.endsWith(".tcz")) continue;
    const extension = head.slice(0, -4);
    const paths = lines.map((l) => l.replace(/^\/+/, ""));
    records.push({ extension, paths });
    for (const path of paths) {
      const name = path.slice(path.lastIndexOf("/") + 1);
      const list = byName.get(name) ?? [];
      list.push({ extension, path });
      byName.set(name, list);
    }
  }
  return { byName, records };
}

/** provides.sh's search: a file name, a soname, or a path suffix; extensions sorted by name. */
export function searchProvides(index: ProvidesIndex, pattern: string): { extension: string; paths: string[] }[] {
  const p = pattern.replace(/^\/+/, "");
  return index.records
    .map((r) => ({
      extension: r.extension,
      paths: r.paths.filter((x) => x === p || x.endsWith(`/${p}`) || x.slice(x.lastIndexOf("/") + 1).startsWith(p)),
    }))
    .filter((r) => r.paths.length)
    .sort((a, b) => a.extension.localeCompare(b.extension));
}
