// Manifest -> Lock: the base ISO, the kernel release, both extension closures and the
// gems, every file fetched through the verified store. Also re-fetches what a lock pins.
import { readFileSync } from "node:fs";
import { readCpio } from "../formats/cpio/reader.js";
import { gunzip, isGzip } from "../formats/gzip/reader.js";
import { openIso } from "../formats/iso9660/reader.js";
import { resolveGems } from "../gems/resolve.js";
import type { ResolvedManifest } from "../manifest/types.js";
import { OfflineMissError, FetchError } from "../store/errors.js";
import { fetchToStore, type Expect, type FetchContext, type Fetched } from "../store/fetch.js";
import { describeLocation, locationOf, under, type Location } from "../store/location.js";
import { findBootFiles } from "../tinycore/boot-files.js";
import { describeMissing, resolveClosure, type Closure } from "../tinycore/closure.js";
import { expandKernel, parseDepFile } from "../tinycore/dep-file.js";
import { kernelFromBzImage, kernelFromInitrd } from "../tinycore/kernel-release.js";
import { releasePath, tczPath } from "../tinycore/mirror-layout.js";
import { parseMd5File } from "../tinycore/md5-file.js";
import { readAllData, type Entry } from "../tree/entry.js";
import { ResolveError } from "./errors.js";
import { effectiveBuiltin, extractSources, inputsDigest, type Lock, type LockedExtension } from "./lock-file.js";

export interface ResolveContext {
  fetch: FetchContext;
  mirror: Location;
  /** Relative URLs and paths in the manifest are taken from here. */
  baseDir: string;
  warn(message: string): void;
}

export { ResolveError } from "./errors.js";

/** Fetches, turning --offline misses into a list reported at the end instead of the first failure. */
function collector(ctx: ResolveContext) {
  const offline = new Set<string>();
  const failures: string[] = [];
  const get = async (from: Location, label: string, expect: Expect = {}): Promise<Fetched | undefined | null> => {
    try {
      return await fetchToStore(ctx.fetch, from, label, expect);
    } catch (e) {
      if (e instanceof OfflineMissError) {
        offline.add(e.url);
        return null;
      }
      if (e instanceof FetchError) {
        failures.push(e.message);
        return null;
      }
      throw e;
    }
  };
  const finish = (more: string[] = []) => {
    const problems = [...failures, ...more];
    if (offline.size) problems.push(`--offline: ${offline.size} file${offline.size > 1 ? "s are" : " is"} not in the download cache:\n  ${[...offline].sort().join("\n  ")}`);
    if (problems.length) throw new ResolveError(problems);
  };
  return { get, finish };
}

const text = (f: Fetched) => readFileSync(f.path, "utf8");

/** A tiny one-line file naming an .iso beside it: how git and some copies store a symlink. */
function linkFileTarget(path: string): string | undefined {
  const b = readFileSync(path);
  if (b.length > 255 || b.includes(0)) return undefined;
  const m = /^([\w.+-]+\.iso)\s*$/.exec(b.toString("latin1"));
  return m?.[1];
}

function sibling(l: Location, name: string): Location {
  return l.kind === "http" ? { kind: "http", url: l.url.replace(/[^/]*$/, encodeURIComponent(name)) } : { kind: "file", path: l.path.replace(/[^/]*$/, name) };
}

export function baseIsoLocation(m: ResolvedManifest, ctx: ResolveContext): Location {
  return m.base.url ? locationOf(m.base.url, ctx.baseDir) : under(ctx.mirror, releasePath(m.base.release, m.base.arch, m.base.iso));
}

/** lib/modules/<release> in the initrd, else the bzImage header of the default label's kernel. */
export async function detectKernel(isoPath: string): Promise<{ release: string; source: Lock["kernelSource"] } | undefined> {
  const iso = openIso(isoPath);
  try {
    const boot = await findBootFiles(iso.entries);
    const byPath = new Map(iso.entries.map((e) => [e.path, e]));
    for (const initrd of boot.initrds) {
      let bytes = await readAllData(byPath.get(initrd)!);
      if (isGzip(bytes)) bytes = gunzip(bytes);
      const entries: Entry[] = [];
      for await (const e of readCpio(bytes)) entries.push({ ...e, data: undefined });
      const release = kernelFromInitrd(entries);
      if (release) return { release, source: "initrd lib/modules" };
    }
    const release = kernelFromBzImage(await readAllData(byPath.get(boot.kernel)!));
    return release ? { release, source: "bzImage header" } : undefined;
  } finally {
    iso.close();
  }
}

export async function resolveLock(m: ResolvedManifest, ctx: ResolveContext): Promise<Lock> {
  const { get, finish } = collector(ctx);
  let baseFrom = baseIsoLocation(m, ctx);
  let base = await get(baseFrom, m.base.url ?? m.base.iso, m.base.sha256 ? { sha256: m.base.sha256 } : {});
  if (base === undefined) throw new ResolveError([`base ISO not found: ${describeLocation(baseFrom)}`]);
  const target = base ? linkFileTarget(base.path) : undefined;
  if (base && target) {
    // A symlink stored as a text file (a mirror copied without symlinks): follow it once.
    const followed = sibling(baseFrom, target);
    ctx.warn(`${describeLocation(baseFrom)} is a link file naming ${target}; using ${describeLocation(followed)}`);
    baseFrom = followed;
    base = await get(baseFrom, target, m.base.sha256 ? { sha256: m.base.sha256 } : {});
    if (base === undefined) throw new ResolveError([`base ISO not found: ${describeLocation(baseFrom)}`]);
  }

  let kernel: { release: string; source: Lock["kernelSource"] } | undefined = m.kernel ? { release: m.kernel, source: "manifest" } : undefined;
  if (!kernel && base) {
    try {
      kernel = await detectKernel(base.path);
    } catch (e) {
      throw new ResolveError([`base ISO ${describeLocation(baseFrom)} is not a usable Tiny Core ISO: ${(e as Error).message}`]);
    }
  }

  // One lookup per extension name, shared by both closures.
  const tcz = new Map<string, Promise<{ deps: string[]; tcz: Fetched; dep?: Fetched } | undefined>>();
  const kernelProblems = new Set<string>();
  const unavailable = new Set<string>(); // failed to download or verify: reported as such, not as missing
  const lookup = (name: string) => {
    let p = tcz.get(name);
    if (!p) {
      p = (async () => {
        const at = (suffix: "" | ".md5.txt" | ".dep") => under(ctx.mirror, tczPath(m.base.release, m.base.arch, name, suffix));
        const [md5File, depFile] = await Promise.all([get(at(".md5.txt"), `${name}.tcz.md5.txt`), get(at(".dep"), `${name}.tcz.dep`)]);
        const md5 = md5File ? parseMd5File(text(md5File)) : undefined;
        if (md5File && !md5) ctx.warn(`${describeLocation(at(".md5.txt"))} holds no md5 sum; ${name}.tcz is checked by sha256 only`);
        const file = await get(at(""), `${name}.tcz`, md5 ? { md5 } : {});
        if (file === null) unavailable.add(name);
        if (!file) return undefined;
        if (md5File === undefined) ctx.warn(`${name}.tcz has no .md5.txt on the mirror; it is pinned by sha256 only`);
        const deps = depFile
          ? parseDepFile(text(depFile)).map((d) => {
              try {
                return expandKernel(d, kernel?.release);
              } catch (e) {
                kernelProblems.add(`${name}.tcz.dep: ${(e as Error).message}`);
                return d;
              }
            })
          : [];
        return { deps, tcz: file, ...(depFile ? { dep: depFile } : {}) };
      })();
      tcz.set(name, p);
    }
    return p.then((r) => r?.deps);
  };
  const expandRoot = (n: string) => {
    try {
      return expandKernel(n, kernel?.release);
    } catch (e) {
      kernelProblems.add(`extension ${n}: ${(e as Error).message}`);
      return n;
    }
  };
  const closures: [LockedExtension["role"], Closure][] = [
    ["builtin", await resolveClosure(effectiveBuiltin(m).map(expandRoot), "extensions.builtin", lookup)],
    ["mirror", await resolveClosure(m.extensions.mirror.map(expandRoot), "extensions.mirror", lookup)],
  ];
  // Extensions that only supply files: their .tcz is pinned, their dependencies are not needed.
  const extract = await resolveClosure(extractSources(m).map(expandRoot), "files[].extract", async (name) => ((await lookup(name)) === undefined ? undefined : []));
  closures.push(["extract", extract]);
  const missing = closures.flatMap(([, c]) => c.missing.filter((x) => !unavailable.has(x.name)).map(describeMissing));
  for (const [, c] of closures) for (const loop of c.loops) ctx.warn(`dependency loop: ${loop.map((n) => `${n}.tcz`).join(" -> ")} (ignored, as tce-load does)`);

  const extensions: LockedExtension[] = [];
  for (const [role, c] of closures) {
    for (const node of c.order) {
      const info = await tcz.get(node.name);
      if (!info) continue; // unavailable: finish() reports why
      const files: LockedExtension["files"] = {};
      if (info.dep && role !== "extract") files[".dep"] = info.dep.sha256;
      if (role === "mirror") {
        for (const suffix of [".info", ".list"] as const) {
          const f = await get(under(ctx.mirror, tczPath(m.base.release, m.base.arch, node.name, suffix)), `${node.name}.tcz${suffix}`);
          if (f) files[suffix] = f.sha256;
        }
      }
      extensions.push({ name: node.name, role, requiredBy: node.requiredBy, deps: role === "extract" ? [] : node.deps, size: info.tcz.size, md5: info.tcz.md5, sha256: info.tcz.sha256, ...(Object.keys(files).length ? { files } : {}) });
    }
  }

  let gems: Lock["gems"] = [];
  const gemProblems: string[] = [];
  if (m.gems.require.length) {
    const source = locationOf(m.gems.source, ctx.baseDir);
    try {
      gems = await resolveGems(m.gems.require, async (name) => {
        const f = await get(under(source, `info/${name}`), `gem index ${name}`);
        return f ? text(f) : undefined;
      });
      await Promise.all(gems.map((g) => get(under(source, `gems/${g.name}-${g.version}.gem`), `${g.name}-${g.version}.gem`, { sha256: g.sha256 })));
    } catch (e) {
      if (e instanceof ResolveError) throw e;
      gemProblems.push(`gems: ${(e as Error).message}`);
    }
  }

  finish([...kernelProblems, ...missing.map((x) => `missing extension ${x}`), ...gemProblems]);
  return {
    lockVersion: 1,
    inputs: inputsDigest(m),
    manifest: m.name,
    mirror: describeLocation(ctx.mirror),
    release: m.base.release,
    arch: m.base.arch,
    ...(kernel ? { kernel: kernel.release, kernelSource: kernel.source } : {}),
    base: { url: describeLocation(baseFrom), sha256: base!.sha256, size: base!.size },
    extensions,
    ...(m.gems.require.length ? { gemSource: m.gems.source } : {}),
    gems,
  };
}

/** Fetches (or finds in the store) everything the lock pins, verifying each against it. */
export async function fetchLocked(lock: Lock, m: ResolvedManifest, ctx: ResolveContext): Promise<void> {
  const { get, finish } = collector(ctx);
  const notFound: string[] = [];
  const need = async (from: Location, label: string, expect: Expect) => {
    if ((await get(from, label, expect)) === undefined) notFound.push(`${describeLocation(from)} is gone from the mirror (the lock pins sha256 ${expect.sha256})`);
  };
  const jobs: Promise<void>[] = [need(baseIsoLocation(m, ctx), m.base.iso, { sha256: lock.base.sha256 })];
  for (const e of lock.extensions) {
    jobs.push(need(under(ctx.mirror, tczPath(lock.release, lock.arch, e.name)), `${e.name}.tcz`, { sha256: e.sha256, md5: e.md5 }));
    for (const [suffix, sha256] of Object.entries(e.files ?? {})) jobs.push(need(under(ctx.mirror, tczPath(lock.release, lock.arch, e.name, suffix as ".dep")), `${e.name}.tcz${suffix}`, { sha256 }));
  }
  if (lock.gems.length) {
    const source = locationOf(lock.gemSource ?? m.gems.source, ctx.baseDir);
    for (const g of lock.gems) jobs.push(need(under(source, `gems/${g.name}-${g.version}.gem`), `${g.name}-${g.version}.gem`, { sha256: g.sha256 }));
  }
  await Promise.all(jobs);
  finish(notFound);
}
