// An extension's .dep worked out from its programs: every shared library its ELF files need
// that it does not ship itself is looked up in the mirror's provides.db, and the extension
// that provides it while adding the fewest others is chosen. A library no extension provides
// is taken to be the base's (libc, libm, the loader): the build-time library check still
// proves it is there in the image. A choice already brought in by another choice is dropped.
import { elfOfEntry } from "../formats/elf/entry.js";
import type { Providers } from "../tinycore/provides.js";
import type { Entry } from "../tree/entry.js";

export interface AutoDeps {
  /** Extension names, sorted. */
  deps: string[];
  /** Each chosen extension, and the libraries it was chosen for. */
  why: Map<string, string[]>;
  /** Libraries no extension provides (taken to be the base's). */
  fromBase: string[];
}

export async function autoDeps(
  entries: readonly Entry[],
  providers: Providers,
  present: ReadonlySet<string>,
  self: string,
): Promise<AutoDeps> {
  const shipped = new Set<string>();
  const needed = new Set<string>();
  for (const e of entries) {
    shipped.add(e.path.slice(e.path.lastIndexOf("/") + 1));
    const info = elfOfEntry(e);
    if (!info) continue;
    if (info.soname) shipped.add(info.soname);
    for (const lib of info.needed) needed.add(lib);
  }
  const why = new Map<string, string[]>();
  const brings = new Map<string, string[]>();
  const fromBase: string[] = [];
  for (const lib of [...needed].filter((l) => !shipped.has(l.slice(l.lastIndexOf("/") + 1))).sort()) {
    const offer = await providers(lib.slice(lib.lastIndexOf("/") + 1), present);
    const best = offer?.find((o) => o.extension !== self);
    if (!best) {
      fromBase.push(lib);
      continue;
    }
    why.set(best.extension, [...(why.get(best.extension) ?? []), lib]);
    brings.set(best.extension, best.adds);
  }
  // A choice that a kept one brings is dropped, its libraries then the keeper's to answer for:
  // those that bring the most are kept first (a loop of .dep files keeps one of its members).
  const byReach = [...why.keys()].sort((a, b) => brings.get(b)!.length - brings.get(a)!.length || a.localeCompare(b));
  const answers = new Map<string, string[]>();
  for (const d of byReach) {
    const keeper = [...answers.keys()].find((k) => brings.get(k)!.includes(d));
    if (keeper) answers.get(keeper)!.push(...why.get(d)!.map((lib) => `${lib} through ${d}`));
    else answers.set(d, [...why.get(d)!]);
  }
  const deps = [...answers.keys()].sort();
  return { deps, why: answers, fromBase };
}
