// `mkbundle tcz` as the context runs it: the directory walked, the extension written into --out,
// dated by the configuration's epoch (SOURCE_DATE_EPOCH, else 2020-01-01). With --dep auto, the
// .dep is worked out from its programs' shared libraries and the mirror's provides.db for the
// series (--release) and architecture (--arch, else the programs' own).
import { existsSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { MkError } from "../errors.js";
import { autoDeps } from "../extension/auto-deps.js";
import { sourceTree } from "../extension/source-tree.js";
import { writeTcz, type WrittenTcz } from "../extension/write-tcz.js";
import { elfOfEntry } from "../formats/elf/entry.js";
import { mirrorProviders } from "../lock/provides-index.js";
import type { Arch } from "../manifest/types.js";
import type { Entry } from "../tree/entry.js";
import { manifestRun } from "./manifest.js";
import { resolveContext, withProgress, type Verbosity } from "./resolve.js";
import { configOf, type Session } from "./session.js";

export interface TczRun {
  name: string;
  deps: readonly string[] | "auto";
  blockSize?: number;
  release?: string;
  arch?: string;
}

export async function runTcz(s: Session & { verbosity: Verbosity }, dir: string, o: TczRun): Promise<WrittenTcz> {
  const config = configOf(s);
  const root = resolve(dir);
  if (!existsSync(root) || !statSync(root).isDirectory())
    throw new MkError("usage", `${dir}: not a directory`, {
      hint: "mkbundle tcz DIR --name NAME packs DIR's contents",
    });
  const b = o.blockSize;
  if (b !== undefined && !(Number.isInteger(b) && b >= 4096 && b <= 1 << 20 && (b & (b - 1)) === 0))
    throw new MkError("usage", `--block-size ${b}: a power of two from 4096 to 1048576`, {
      hint: "Tiny Core's extensions use 4096",
    });
  const epoch = config.values.epoch;
  const entries = sourceTree(root, epoch);
  const deps = o.deps === "auto" ? await depsFromLibraries(s, entries, o) : o.deps;
  return writeTcz(entries, { name: o.name, deps, out: config.values.out, epoch, ...(b ? { blockSize: b } : {}) });
}

async function depsFromLibraries(
  s: Session & { verbosity: Verbosity },
  entries: Entry[],
  o: TczRun,
): Promise<string[]> {
  if (!o.release || !/^[0-9]+\.x$/.test(o.release))
    throw new MkError("usage", `--dep auto needs --release, the Tiny Core series the extension is for (like 10.x)`, {
      hint: "its mirror's tcz/provides.db.gz says which extension provides each library",
    });
  const arch = o.arch ?? archOfPrograms(entries);
  if (arch !== "x86" && arch !== "x86_64") throw new MkError("usage", `--arch '${arch}': x86 or x86_64`);
  const base: { release: string; arch: Arch } = { release: o.release, arch };
  const loaded = {
    written: { name: "tcz", base },
    dir: process.cwd(),
    locate: () => ({ file: "", line: 0, column: 0 }),
    warnings: [],
  };
  const run = manifestRun(s, loaded);
  const ctx = resolveContext(run.config, s.env, run.input, s.log, s.verbosity);
  const r = await withProgress(ctx, () =>
    autoDeps(entries, mirrorProviders(run.input.manifest, ctx), new Set(), o.name),
  );
  if (r.why.size === 0 && r.fromBase.length === 0) s.log.info("--dep auto: no program here needs a shared library");
  for (const d of r.deps) s.log.info(`--dep auto: ${d} (for ${r.why.get(d)!.join(", ")})`);
  if (r.fromBase.length)
    s.log.info(`--dep auto: taken to be in the base, no extension provides them: ${r.fromBase.join(", ")}`);
  return r.deps;
}

/** The architecture of the programs in the tree, when they agree (--arch otherwise). */
function archOfPrograms(entries: readonly Entry[]): Arch {
  const found = new Set<string>();
  for (const e of entries) {
    const info = elfOfEntry(e);
    if (info) found.add(info.machine === 62 ? "x86_64" : info.machine === 3 ? "x86" : `machine ${info.machine}`);
  }
  const [only, ...more] = found;
  if (!more.length && (only === "x86" || only === "x86_64")) return only;
  throw new MkError(
    "usage",
    found.size
      ? `--dep auto: the programs here are ${[...found].join(" and ")}; say which with --arch`
      : "--dep auto needs --arch: nothing here is a program",
  );
}
