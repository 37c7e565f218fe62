// What kmod's `depmod -b ROOT RELEASE` writes into lib/modules/RELEASE, computed from the
// modules' own ELF data, rootless and without the host's kmod: modules.dep, modules.alias,
// modules.softdep and modules.symbols (the text files busybox's modprobe reads; Tiny Core has
// no kmod, so no .bin index is written). Done the way depmod does it, so the bytes match:
// - modules in modules.order's order (others after it, by path);
// - each module depends on the modules that export the symbols it leaves undefined, added in
//   .symtab order (a symbol two modules export belongs to the later one);
// - a topological sort (modules nobody uses first, a stack of roots) numbers them; a line
//   lists every module a module needs, directly or not, in that numbering's order; modules in
//   a dependency loop are left out;
// - aliases and soft dependencies in module order, from .modinfo in its own order.
// modules.symbols is sorted by symbol (kmod writes its hash table's order, which says nothing).
import type { KernelModule } from "../formats/elf/kernel-module.js";

export interface PlacedModule {
  /** Path under lib/modules/<release>/: kernel/drivers/net/e1000.ko. */
  path: string;
  module: KernelModule;
}

export interface DepmodFiles {
  "modules.dep": string;
  "modules.alias": string;
  "modules.softdep": string;
  "modules.symbols": string;
  /** The modules that depend on each other in a loop (left out of modules.dep). */
  loops: string[];
}

/** kmod's module name: the file name up to its first '.', with '-' as '_'. */
export const moduleName = (path: string): string => path.split("/").pop()!.split(".")[0]!.replaceAll("-", "_");

interface Node {
  path: string;
  name: string;
  module: KernelModule;
  deps: Node[];
  users: number;
  sortIdx: number;
  loop: boolean;
}

export function depmod(modules: readonly PlacedModule[], order: readonly string[]): DepmodFiles {
  const rank = new Map<string, number>();
  order.forEach((p, i) => rank.has(p) || rank.set(p, i));
  const nodes: Node[] = [...modules]
    .sort((a, b) => {
      const [x, y] = [rank.get(a.path), rank.get(b.path)];
      if (x !== undefined && y !== undefined) return x - y;
      if (x !== undefined || y !== undefined) return x !== undefined ? -1 : 1;
      return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
    })
    .map((m) => ({ ...m, name: moduleName(m.path), deps: [], users: 0, sortIdx: 0, loop: false }));

  const owner = new Map<string, Node>();
  for (const n of nodes) for (const s of n.module.exports) owner.set(s, n);
  for (const n of nodes)
    for (const s of n.module.imports) {
      const o = owner.get(s.name.startsWith(".") ? s.name.slice(1) : s.name);
      if (!o || n.deps.includes(o)) continue;
      n.deps.push(o);
      o.users++;
    }

  // Kahn's sort with a stack of roots, as depmod numbers modules.
  const users = nodes.map((n) => n.users);
  const index = new Map(nodes.map((n, i) => [n, i]));
  const roots = nodes.flatMap((n, i) => (n.users === 0 ? [i] : []));
  let sorted = 0;
  while (roots.length) {
    const src = nodes[roots.pop()!]!;
    src.sortIdx = sorted++;
    for (const d of src.deps) {
      const i = index.get(d)!;
      if (--users[i]! === 0) roots.push(i);
    }
  }
  nodes.forEach((n, i) => {
    if (users[i]! > 0) {
      n.loop = true;
      n.sortIdx = Number.MAX_SAFE_INTEGER;
    }
  });

  const all = (n: Node): Node[] => {
    const seen: Node[] = [];
    const visit = (m: Node) => {
      for (const d of m.deps) {
        if (seen.includes(d)) continue;
        seen.push(d);
        visit(d);
      }
    };
    visit(n);
    return seen.filter((d) => !d.loop).sort((a, b) => a.sortIdx - b.sortIdx);
  };
  const dep = nodes
    .filter((n) => !n.loop)
    .map(
      (n) =>
        `${n.path}:${all(n)
          .map((d) => ` ${d.path}`)
          .join("")}\n`,
    )
    .join("");
  const info = (key: string, line: (n: Node, v: string) => string) =>
    nodes.flatMap((n) => n.module.modinfo.filter(([k]) => k === key).map(([, v]) => line(n, v)));
  const alias = [
    "# Aliases extracted from modules themselves.\n",
    ...info("alias", (n, v) => `alias ${v} ${n.name}\n`),
  ];
  const softdep = [
    "# Soft dependencies extracted from modules themselves.\n",
    ...info("softdep", (n, v) => `softdep ${n.name} ${v}\n`),
  ];
  const symbols = [...owner.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([s, n]) => `alias symbol:${s} ${n.name}\n`);
  return {
    "modules.dep": dep,
    "modules.alias": alias.join(""),
    "modules.softdep": softdep.join(""),
    "modules.symbols": ["# Aliases for symbols, used by symbol_request().\n", ...symbols].join(""),
    loops: nodes.filter((n) => n.loop).map((n) => n.path),
  };
}
