// Both extension closures (builtin and mirror) and the extensions files: entries read from,
// each .tcz fetched and verified against its .md5.txt once, however many lists name it.
import { readFileSync } from "node:fs";
import { MkError, type Diagnostic } from "../errors.js";
import { rootsOf, type ResolvedManifest } from "../manifest/types.js";
import { localExtension } from "./local-extensions.js";
import type { Fetched } from "../store/fetch.js";
import { describeLocation, under } from "../net/location.js";
import { describeMissing, resolveClosure, type Closure, type MissingExtension } from "../tinycore/closure.js";
import { didYouMean } from "../manifest/did-you-mean.js";
import { listIndex } from "../store/cas.js";
import { fetchToStore } from "../store/fetch.js";
import { parseDepFile } from "../tinycore/dep-file.js";
import { expandKernel } from "../tinycore/kernel-names.js";
import { parseMd5File } from "../tinycore/md5-file.js";
import { extensionOfUrl, tczIndexPath, tczPath } from "../tinycore/mirror-layout.js";
import { EXTENSION_NAME } from "../manifest/types.js";
import { printable } from "../tree/entry.js";
import type { Collector } from "./collector.js";
import type { ResolveContext } from "./context.js";
import { extractSources, type LockedExtension } from "./lock-file.js";

interface Found {
  deps: string[];
  tcz: Fetched;
  dep?: Fetched;
  /** A local extension's file list (mirror ones fetch theirs). */
  list?: Fetched;
}

export interface Closures {
  extensions: LockedExtension[];
  /** Names from the mirror's .dep files that are not extension names: hostile or broken metadata. */
  badNames: string[];
  /** Problems to report with the collector's: missing extensions (at their manifest line), -KERNEL names that cannot expand. */
  problems: (string | Diagnostic)[];
}

const text = (f: Fetched) => readFileSync(f.path, "utf8");

export async function resolveClosures(
  m: ResolvedManifest,
  kernel: string | undefined,
  ctx: ResolveContext,
  c: Collector,
): Promise<Closures> {
  const { release, arch } = m.base;
  const at = (name: string, suffix: "" | ".md5.txt" | ".dep" | ".info" | ".list") =>
    under(ctx.mirror, tczPath(release, arch, name, suffix));
  const kernelProblems = new Set<string>();
  const expand = (name: string, where: string) => {
    try {
      return expandKernel(name, kernel);
    } catch (e) {
      if (!(e instanceof MkError)) throw e;
      kernelProblems.add(`${where}: ${e.diagnostics[0]!.message}`);
      return name;
    }
  };

  // One lookup per extension name, shared by every closure.
  const found = new Map<string, Promise<Found | undefined>>();
  const unavailable = new Set<string>(); // failed to download or verify: reported as such, not as missing
  const badNames = new Set<string>();
  const locals = new Map(m.extensions.local.map((l) => [l.name, l]));
  const lookup = (name: string) => {
    let p = found.get(name);
    const local = locals.get(name);
    if (!p && local) {
      p = localExtension(local, m, ctx).then((b) => ({
        deps: b.deps,
        tcz: b.tcz,
        ...(b.dep ? { dep: b.dep } : {}),
        list: b.list,
      }));
      found.set(name, p);
    }
    if (!p) {
      p = (async () => {
        const [md5File, depFile] = await Promise.all([
          c.get(at(name, ".md5.txt"), `${name}.tcz.md5.txt`, { metadata: true }),
          c.get(at(name, ".dep"), `${name}.tcz.dep`, { metadata: true }),
        ]);
        const md5 = md5File ? parseMd5File(text(md5File)) : undefined;
        if (md5File && !md5)
          ctx.log.warn(
            `${describeLocation(at(name, ".md5.txt"))} holds no md5 sum; ${name}.tcz is checked by sha256 only`,
          );
        const tcz = await c.get(at(name, ""), `${name}.tcz`, md5 ? { md5 } : {});
        if (tcz === null) unavailable.add(name);
        if (!tcz) return undefined;
        if (md5File === undefined)
          ctx.log.warn(`${name}.tcz has no .md5.txt on the mirror; it is pinned by sha256 only`);
        const deps = (depFile ? parseDepFile(text(depFile)) : [])
          .map((d) => expand(d, `${name}.tcz.dep`))
          .filter((d) => {
            // A name from the mirror becomes a path (a URL, a file in the image): it must be a name.
            if (EXTENSION_NAME.test(d)) return true;
            badNames.add(`${name}.tcz.dep names '${printable(d, 80)}', which is not an extension name (not followed)`);
            return false;
          });
        return { deps, tcz, ...(depFile ? { dep: depFile } : {}) };
      })();
      found.set(name, p);
    }
    return p.then((r) => r?.deps);
  };
  const roots = (names: readonly string[]) => names.map((n) => expand(n, `extension ${n}`));

  const closures: [LockedExtension["role"], Closure][] = [
    ["builtin", await resolveClosure(roots(rootsOf(m, "builtin")), "extensions.builtin", lookup)],
    ["mirror", await resolveClosure(roots(rootsOf(m, "mirror")), "extensions.mirror", lookup)],
    // Extensions that only supply files: their .tcz is pinned, their dependencies are not needed.
    [
      "extract",
      await resolveClosure(roots(extractSources(m)), "files[].extract", async (name) =>
        (await lookup(name)) === undefined ? undefined : [],
      ),
    ],
  ];
  const missing = closures.flatMap(([, cl]) => cl.missing.filter((x) => !unavailable.has(x.name)));
  // Never suggest a name that is itself missing.
  const missingNames = new Set(missing.map((x) => x.name));
  const known = missing.length ? (await knownNames(m, ctx, [...found.keys()])).filter((n) => !missingNames.has(n)) : [];
  for (const [, cl] of closures)
    for (const loop of cl.loops)
      ctx.log.warn(`dependency loop: ${loop.map((n) => `${n}.tcz`).join(" -> ")} (ignored, as tce-load does)`);

  const extensions: LockedExtension[] = [];
  for (const [role, cl] of closures) {
    for (const node of cl.order) {
      const info = await found.get(node.name);
      if (!info) continue; // unavailable: the collector reports why
      const files: LockedExtension["files"] = {};
      if (info.dep && role !== "extract") files[".dep"] = info.dep.sha256;
      const local = locals.get(node.name);
      if (role === "mirror" && info.list) files[".list"] = info.list.sha256;
      else if (role === "mirror") {
        for (const suffix of [".info", ".list"] as const) {
          const f = await c.get(at(node.name, suffix), `${node.name}.tcz${suffix}`, { metadata: true });
          if (f) files[suffix] = f.sha256;
        }
      }
      extensions.push({
        name: node.name,
        role,
        requiredBy: node.requiredBy,
        deps: role === "extract" ? [] : node.deps,
        size: info.tcz.size,
        md5: info.tcz.md5,
        sha256: info.tcz.sha256,
        ...(Object.keys(files).length ? { files } : {}),
        ...(local ? { local: "from" in local ? local.from : local.file } : {}),
      });
    }
  }
  return {
    extensions,
    badNames: [...badNames],
    problems: [
      ...kernelProblems,
      ...missing.map((x) => missingDiagnostic(x, known, ctx)),
      // Where they were looked for, said once rather than on every line.
      ...(missing.length
        ? [
            `${missing.length} extension${missing.length === 1 ? " was" : "s were"} not found in ${describeLocation(under(ctx.mirror, tczIndexPath(release, arch, "")))}`,
          ]
        : []),
    ],
  };
}

/**
 * "missing extension bahs.tcz: listed in extensions.builtin (did you mean 'bash'?)", at the
 * manifest line that listed it (or brought in the extension that needs it).
 */
function missingDiagnostic(x: MissingExtension, known: readonly string[], ctx: ResolveContext): string | Diagnostic {
  const text = `missing extension ${describeMissing(x)}`;
  const deb = /^(.+)\.deb$/.exec(x.name);
  const guess = didYouMean(
    deb ? deb[1]! : x.name,
    known.filter((n) => n !== x.name),
  );
  const hint = deb
    ? `a .deb is a Debian package, not a Tiny Core extension: list the extension's name${guess ? ` ('${guess}')` : ""}`
    : guess
      ? `did you mean '${guess}'?`
      : undefined;
  const [root, list] = x.chain.slice(-2);
  const at = root && list ? ctx.whereListed?.(list, root) : undefined;
  if (!at) return hint ? `${text} (${hint})` : text;
  return { severity: "error", ...at, path: "", message: text, ...(hint ? { hint } : {}) };
}

/**
 * Extension names a misspelt one may have meant: the mirror's tcz/info.lst (Tiny Core
 * mirrors publish one), else the names seen while resolving and those in the download cache.
 */
async function knownNames(m: ResolvedManifest, ctx: ResolveContext, seen: readonly string[]): Promise<string[]> {
  const names = new Set(seen);
  for (const r of listIndex(ctx.fetch.store)) {
    const n = extensionOfUrl(r.url);
    if (n && r.sha256) names.add(n);
  }
  try {
    const info = await fetchToStore(
      ctx.fetch,
      under(ctx.mirror, tczIndexPath(m.base.release, m.base.arch, "info.lst")),
      "info.lst",
      { metadata: true },
    );
    if (info)
      for (const line of text(info).split("\n")) {
        const n = line.trim().replace(/\.tcz$/, "");
        if (EXTENSION_NAME.test(n)) names.add(n);
      }
  } catch {
    // Only a suggestion: a mirror without a reachable info.lst still gets the other names.
  }
  return [...names];
}
