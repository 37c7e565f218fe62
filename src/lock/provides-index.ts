// The mirror's provides.db.gz, fetched (as metadata: size-bounded, cached like other mirror
// files, never pinned) and read once per run, when a check first asks.
import { readFileSync } from "node:fs";
import { MkError } from "../errors.js";
import { gunzipSource } from "../formats/gzip/inflate.js";
import { fileSource } from "../io/byte-source.js";
import { EXTENSION_NAME, type ResolvedManifest } from "../manifest/types.js";
import { under } from "../net/location.js";
import { fetchToStore } from "../store/fetch.js";
import type { DepLookup } from "../tinycore/closure.js";
import { parseDepFile } from "../tinycore/dep-file.js";
import { tczIndexPath, tczPath } from "../tinycore/mirror-layout.js";
import { parseProvides, rankProviders, type ProvidesIndex, type Providers } from "../tinycore/provides.js";
import type { ResolveContext } from "./context.js";

/** One of each per run and series/arch: every local extension's dep: auto and the build's check share them. */
const perRun = new WeakMap<ResolveContext, Map<string, unknown>>();
function once<T>(ctx: ResolveContext, key: string, make: () => T): T {
  let forCtx = perRun.get(ctx);
  if (!forCtx) perRun.set(ctx, (forCtx = new Map<string, unknown>()));
  if (!forCtx.has(key)) forCtx.set(key, make());
  return forCtx.get(key) as T;
}

export function mirrorProvidesIndex(
  m: ResolvedManifest,
  ctx: ResolveContext,
): () => Promise<ProvidesIndex | undefined> {
  return once(ctx, `index ${m.base.release}/${m.base.arch}`, () => {
    let loaded: Promise<ProvidesIndex | undefined> | undefined;
    return () => (loaded ??= loadIndex(m, ctx));
  });
}

async function loadIndex(m: ResolvedManifest, ctx: ResolveContext): Promise<ProvidesIndex | undefined> {
  let got;
  try {
    got = await fetchToStore(
      ctx.fetch,
      under(ctx.mirror, tczIndexPath(m.base.release, m.base.arch, "provides.db.gz")),
      "provides.db.gz",
      { metadata: true },
    );
  } catch (e) {
    if (e instanceof MkError) return undefined; // only a hint: a mirror without one still builds
    throw e;
  }
  if (!got) return undefined;
  const gz = fileSource(got.path);
  try {
    const text = await gunzipSource(gz, { label: "provides.db.gz", limits: ctx.limits });
    try {
      return parseProvides(text.read(0, text.size).toString("utf8"));
    } finally {
      text.close();
    }
  } finally {
    gz.close();
  }
}

export function mirrorProviders(m: ResolvedManifest, ctx: ResolveContext): Providers {
  const index = mirrorProvidesIndex(m, ctx);
  const deps = mirrorDeps(m, ctx);
  return async (name, present) => {
    const i = await index();
    return i ? rankProviders(i.byName.get(name) ?? [], deps, present) : undefined;
  };
}

/**
 * An extension's .dep on the mirror (fetched as metadata, cached): its names, or [] without one.
 * Only the mirror's: a local extension's own dependencies may be worked out from these.
 */
function mirrorDeps(m: ResolvedManifest, ctx: ResolveContext): DepLookup {
  const known = once(ctx, `deps ${m.base.release}/${m.base.arch}`, () => new Map<string, Promise<string[]>>());
  return (name) => {
    let p = known.get(name);
    if (!p) {
      p = (async () => {
        let got;
        try {
          got = await fetchToStore(
            ctx.fetch,
            under(ctx.mirror, tczPath(m.base.release, m.base.arch, name, ".dep")),
            `${name}.tcz.dep`,
            { metadata: true },
          );
        } catch (e) {
          if (e instanceof MkError) return []; // a hint's ranking only: never a reason to fail
          throw e;
        }
        return got ? parseDepFile(readFileSync(got.path, "utf8")).filter((d) => EXTENSION_NAME.test(d)) : [];
      })();
      known.set(name, p);
    }
    return p;
  };
}
