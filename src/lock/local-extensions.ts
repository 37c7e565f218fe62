// extensions.local: your own extensions, put into the download store like any pinned file.
// A `from:` directory is packed as `mkbundle tcz` packs it (the same bytes for the same
// directory and epoch), a `file:` .tcz is verified against its sha256; each comes with the
// .dep and .list a mirror would have, so everything after resolution (placement, onboot.lst,
// the audit, --builtin unpack) treats it as one more extension.
import { copyFileSync, existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { isAbsolute, relative, resolve } from "node:path";
import { MkError, problem } from "../errors.js";
import { autoDeps } from "../extension/auto-deps.js";
import { sourceTree } from "../extension/source-tree.js";
import { writeSquashfsFile } from "../formats/squashfs/writer.js";
import { readSquashfs } from "../formats/squashfs/reader.js";
import { fileSource } from "../io/byte-source.js";
import { hashFile } from "../io/hash.js";
import { EXTENSION_NAME, rootsOf, type LocalExtension, type ResolvedManifest } from "../manifest/types.js";
import { adoptBlob, tempFile, type Store } from "../store/cas.js";
import type { Fetched } from "../store/fetch.js";
import { parseDepFile } from "../tinycore/dep-file.js";
import { collect, type Entry } from "../tree/entry.js";
import type { ResolveContext } from "./context.js";
import { mirrorProviders } from "./provides-index.js";

export interface LocalBuilt {
  tcz: Fetched;
  dep?: Fetched;
  list: Fetched;
  deps: string[];
}

/** Built once per run: the freshness check and the resolution share it. */
const built = new WeakMap<ResolveContext, Map<string, Promise<LocalBuilt>>>();

export function localExtension(l: LocalExtension, m: ResolvedManifest, ctx: ResolveContext): Promise<LocalBuilt> {
  let forCtx = built.get(ctx);
  if (!forCtx) built.set(ctx, (forCtx = new Map<string, Promise<LocalBuilt>>()));
  let p = forCtx.get(l.name);
  if (!p) forCtx.set(l.name, (p = buildLocal(l, m, ctx)));
  return p;
}

async function buildLocal(l: LocalExtension, m: ResolvedManifest, ctx: ResolveContext): Promise<LocalBuilt> {
  const store = ctx.fetch.store;
  const source = "from" in l ? l.from : l.file;
  const path = inside(ctx, source, l.name);
  const at = ctx.whereListed?.("extensions.local", l.name);
  const fail = (message: string, hint?: string) =>
    new MkError(
      "input",
      at ? { severity: "error", ...at, path: "", message, ...(hint ? { hint } : {}) } : problem("", message, hint),
    );
  let tcz: Fetched;
  let entries: Entry[];
  let depsBeside: string[] = [];
  if ("from" in l) {
    entries = sourceTree(path, m.epoch);
    const tmp = tempFile(store);
    try {
      await writeSquashfsFile(entries, tmp, { epoch: m.epoch });
      tcz = await adopt(store, tmp, `local:${source}`);
    } finally {
      rmSync(tmp, { force: true });
    }
  } else {
    if (!existsSync(path)) throw fail(`extensions.local: ${source} does not exist`);
    const got = await hashFile(path);
    if (got.sha256 !== l.sha256)
      throw fail(
        `extensions.local: sha256 mismatch for ${source}: expected ${l.sha256}, got ${got.sha256}`,
        "the sha256 pins other bytes: if this .tcz is the one you want, set its sha256 to the one it has",
      );
    const tmp = tempFile(store);
    copyFileSync(path, tmp);
    tcz = await adopt(store, tmp, `local:${source}`);
    const src = fileSource(tcz.path);
    try {
      entries = await collect(readSquashfs(src, ctx.limits));
    } finally {
      src.close();
    }
    if (existsSync(`${path}.dep`)) depsBeside = parseDepFile(readFileSync(`${path}.dep`, "utf8"));
  }
  const deps = [...new Set([...l.dep, ...depsBeside, ...(l.autoDep ? await autoDepsOf(l, entries, m, ctx) : [])])];
  const bad = deps.find((d) => !EXTENSION_NAME.test(d));
  if (bad) throw fail(`extensions.local: ${l.name}'s dependency '${bad}' is not an extension name`);
  const list = entries
    .filter((e) => e.type !== "dir")
    .map((e) => `${e.path}\n`)
    .join("");
  return {
    tcz,
    list: await putBytes(store, Buffer.from(list), `local:${source}.list`),
    ...(deps.length
      ? { dep: await putBytes(store, Buffer.from(deps.map((d) => `${d}.tcz\n`).join("")), `local:${source}.dep`) }
      : {}),
    deps,
  };
}

/** dep: auto, from the shared libraries its programs need and the mirror's provides.db. */
async function autoDepsOf(l: LocalExtension, entries: Entry[], m: ResolvedManifest, ctx: ResolveContext) {
  const r = await autoDeps(entries, mirrorProviders(m, ctx), new Set(rootsOf(m, "builtin")), l.name);
  const chosen = r.deps.map((d) => `${d} (for ${r.why.get(d)!.join(", ")})`);
  ctx.log.info(`extensions.local: ${l.name}: dep auto: ${chosen.length ? chosen.join(", ") : "none"}`);
  return r.deps;
}

/** A path next to the manifest, never outside its directory. */
function inside(ctx: ResolveContext, source: string, name: string): string {
  const path = resolve(ctx.baseDir, source);
  const rel = relative(ctx.baseDir, path);
  if (isAbsolute(source) || rel.startsWith("..") || isAbsolute(rel))
    throw new MkError("input", `extensions.local: ${name}'s '${source}' is outside the manifest's directory`, {
      hint: "local extensions live next to the manifest, so a checkout builds the same image anywhere",
    });
  return path;
}

async function adopt(store: Store, tmp: string, url: string): Promise<Fetched> {
  const h = await hashFile(tmp);
  const path = adoptBlob(store, tmp, h.sha256);
  return { url, sha256: h.sha256, md5: h.md5, size: h.size, path, cached: false };
}

async function putBytes(store: Store, bytes: Buffer, url: string): Promise<Fetched> {
  const tmp = tempFile(store);
  writeFileSync(tmp, bytes);
  return adopt(store, tmp, url);
}
