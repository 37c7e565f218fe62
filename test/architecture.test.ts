// The architecture, checked: src/ is layers that only point down (docs/architecture.md draws
// them), no two modules import each other round a circle, the environment is read in one
// module, and each Tiny Core fact and setting lives where the "where each fact lives" table
// of docs/architecture.md says. Imports of every kind count: static, type-only and dynamic.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "./helpers/paths.js";

/** Each folder of src/ (and each file at its top) with its layer: a module imports only from lower layers. */
const LAYERS: Record<string, number> = {
  errors: 0,
  log: 1,
  io: 2,
  tree: 3,
  formats: 4,
  net: 4,
  tinycore: 5,
  registry: 5,
  manifest: 6,
  store: 6,
  gems: 7,
  extension: 7,
  outdir: 7,
  lock: 8,
  overlay: 9,
  qemu: 9,
  bundle: 10,
  inspect: 10,
  remaster: 11,
  plan: 12,
  pipeline: 12,
  dev: 12,
  publish: 12,
  config: 13,
  context: 14,
  cli: 15,
};

const src = join(repoRoot, "src");

function sourceFiles(dir = src): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? sourceFiles(p) : p.endsWith(".ts") ? [p] : [];
  });
}

/** The module's source without comments (a comment may name what a module must not use). */
const code = (file: string): string =>
  readFileSync(file, "utf8")
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .replace(/(^|[^:"'`\\])\/\/.*$/gm, "$1");

/** Every relative import of a module: static, type-only, re-exports and dynamic. */
function imports(file: string): string[] {
  return [...code(file).matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|\bimport\s+)["'](\.{1,2}\/[^"']+)["']/g)].map((m) =>
    resolve(dirname(file), m[1]!.replace(/\.js$/, ".ts")),
  );
}

const layerOf = (file: string): string => relative(src, file).split("/")[0]!.replace(/\.ts$/, "");
const files = sourceFiles();
const rel = (f: string) => relative(src, f);

describe("layers", () => {
  it("every folder of src/ has its place in the layers", () => {
    expect([...new Set(files.map(layerOf))].filter((l) => LAYERS[l] === undefined)).toEqual([]);
  });

  it("no module imports from its own layer's neighbours or from above", () => {
    const upward = files.flatMap((f) =>
      imports(f)
        .filter((t) => layerOf(t) !== layerOf(f) && LAYERS[layerOf(t)]! >= LAYERS[layerOf(f)]!)
        .map((t) => `${rel(f)} -> ${rel(t)}`),
    );
    expect(upward).toEqual([]);
  });

  it("no modules import each other round a circle", () => {
    // Tarjan's strongly connected components over the file graph.
    const graph = new Map(files.map((f) => [f, imports(f).filter((t) => files.includes(t))]));
    const index = new Map<string, number>();
    const low = new Map<string, number>();
    const stack: string[] = [];
    const on = new Set<string>();
    const cycles: string[][] = [];
    let next = 0;
    const visit = (v: string) => {
      index.set(v, next);
      low.set(v, next++);
      stack.push(v);
      on.add(v);
      for (const w of graph.get(v)!) {
        if (!index.has(w)) {
          visit(w);
          low.set(v, Math.min(low.get(v)!, low.get(w)!));
        } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
      if (low.get(v) === index.get(v)) {
        const scc: string[] = [];
        for (let w = ""; w !== v;) {
          w = stack.pop()!;
          on.delete(w);
          scc.push(rel(w));
        }
        if (scc.length > 1 || graph.get(v)!.includes(v)) cycles.push(scc.sort());
      }
    };
    for (const f of files) if (!index.has(f)) visit(f);
    expect(cycles).toEqual([]);
  });
});

describe("one configuration", () => {
  it("the environment is read in config/environment.ts alone (and main.ts sizes libuv's pool)", () => {
    const readers = files.filter((f) => /process\.env\b/.test(code(f))).map(rel);
    expect(readers.sort()).toEqual(["cli/main.ts", "config/environment.ts"]);
  });
});

/** Rows of docs/architecture.md's "Where each fact lives": a fact, its module(s), the literal only they hold. */
function factRows(): { fact: string; modules: string[]; literal: string }[] {
  const doc = readFileSync(join(repoRoot, "docs", "architecture.md"), "utf8");
  const table = doc.slice(doc.indexOf("## Where each fact lives"));
  return [...table.matchAll(/^\| (.+?) \| (.+?) \| `([^`]+)` \|$/gm)].map((m) => ({
    fact: m[1]!,
    modules: [...m[2]!.matchAll(/`?([\w/.-]+\.ts)`?/g)].map((x) => x[1]!),
    literal: m[3]!,
  }));
}

describe("where each fact lives", () => {
  const rows = factRows();

  it("the table has its rows, and every module it names exists", () => {
    expect(rows.length).toBeGreaterThanOrEqual(10);
    const missing = rows.flatMap((r) => r.modules.filter((m) => !files.includes(join(src, m))));
    expect(missing).toEqual([]);
  });

  it.each(rows)("$fact: only in its module", ({ modules, literal }) => {
    const holders = files.filter((f) => code(f).includes(literal)).map(rel);
    expect(holders.sort()).toEqual([...modules].sort());
  });
});
