// The mirror's tcz/provides.db (what Tiny Core's provides.sh searches): blank-line separated
// records, the first line an extension's file name (readline.tcz), the rest its paths (with or
// without a leading slash). Advisory: it may lag the extensions themselves.
import { resolveClosure, type DepLookup } from "./closure.js";

/** An extension that ships the file, and what adding it brings that the image lacks (install order, itself last). */
export interface Provider {
  extension: string;
  path: string;
  adds: string[];
}

/**
 * Which extensions ship a file with this name (a soname, a program), those that bring the
 * fewest new extensions first (given the ones the image has): undefined without an index.
 */
export type Providers = (fileName: string, present: ReadonlySet<string>) => Promise<Provider[] | undefined>;

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

/** Candidates ranked for one file name: more are listed by name only (a soname in many extensions is rare). */
const RANKED = 12;

/** The candidates, those whose dependency closure adds the fewest extensions to `present` first, then by name. */
export async function rankProviders(
  candidates: readonly { extension: string; path: string }[],
  deps: DepLookup,
  present: ReadonlySet<string>,
): Promise<Provider[]> {
  const ranked = await Promise.all(
    candidates.slice(0, RANKED).map(async (c) => {
      const closure = await resolveClosure([c.extension], "provides.db", deps);
      return { ...c, adds: closure.order.map((n) => n.name).filter((n) => !present.has(n)) };
    }),
  );
  ranked.sort((a, b) => a.adds.length - b.adds.length || a.extension.localeCompare(b.extension));
  return [...ranked, ...candidates.slice(RANKED).map((c) => ({ ...c, adds: [c.extension] }))];
}
