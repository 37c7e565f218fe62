// Dependency closure of extension lists: every name found, missing ones with the chain
// that pulled them in, loops reported (never followed), and an install order with
// dependencies before dependents, deterministic (list order, then .dep order), as tce-load.

interface ClosureNode {
  name: string;
  deps: string[];
  /** Direct dependents, sorted; plus the list that named it at the top level. */
  requiredBy: string[];
}

export interface MissingExtension {
  name: string;
  /** From the missing name up to the list: ["b", "a", "extensions.builtin"]. */
  chain: string[];
}

export interface Closure {
  order: ClosureNode[];
  missing: MissingExtension[];
  /** Each loop as the path that closes it: ["a", "b", "a"]. */
  loops: string[][];
}

/** Returns the extension's dependencies, or undefined when the mirror has no such extension. */
export type DepLookup = (name: string) => Promise<string[] | undefined>;

export async function resolveClosure(roots: readonly string[], listName: string, lookup: DepLookup): Promise<Closure> {
  const deps = new Map<string, string[] | undefined>();
  const parent = new Map<string, string>(); // first discoverer, for chains
  // Discover breadth-first, one level at a time, each level's lookups in parallel.
  let level = [...new Set(roots)];
  for (const r of level) parent.set(r, listName);
  while (level.length) {
    const found = await Promise.all(level.map(lookup));
    const next: string[] = [];
    level.forEach((name, i) => {
      deps.set(name, found[i]);
      for (const d of found[i] ?? []) {
        if (!deps.has(d) && !parent.has(d)) {
          parent.set(d, name);
          next.push(d);
        }
      }
    });
    level = next;
  }

  const missing: MissingExtension[] = [];
  for (const [name, d] of deps) {
    if (d !== undefined) continue;
    const chain = [name];
    for (let p = parent.get(name); p !== undefined; p = parent.get(p)) chain.push(p);
    missing.push({ name, chain });
  }

  // Install order: depth-first, dependencies first; a back edge is a loop, reported and cut.
  const order: ClosureNode[] = [];
  const done = new Set<string>();
  const loops: string[][] = [];
  const stack: string[] = [];
  const visit = (name: string) => {
    if (done.has(name)) return;
    const at = stack.indexOf(name);
    if (at >= 0) {
      loops.push([...stack.slice(at), name]);
      return;
    }
    const d = deps.get(name);
    if (d === undefined) return; // missing: reported above
    stack.push(name);
    for (const dep of d) visit(dep);
    stack.pop();
    done.add(name);
    order.push({ name, deps: d, requiredBy: [] });
  };
  for (const r of roots) visit(r);
  const byName = new Map(order.map((n) => [n.name, n]));
  for (const n of order) for (const d of n.deps) byName.get(d)?.requiredBy.push(n.name);
  for (const r of new Set(roots)) byName.get(r)?.requiredBy.push(listName);
  for (const n of order) n.requiredBy.sort();
  return { order, missing: missing.sort((a, b) => a.name.localeCompare(b.name)), loops };
}

/** "openssl-1.1.1.tcz: needed by osslsigncode.tcz, listed in extensions.builtin" */
export function describeMissing(m: MissingExtension): string {
  const [name, ...rest] = m.chain;
  const list = rest[rest.length - 1];
  const via = rest.slice(0, -1).map((n) => `needed by ${n}.tcz`);
  return `${name}.tcz: ${[...via, `listed in ${list}`].join(", ")}`;
}
