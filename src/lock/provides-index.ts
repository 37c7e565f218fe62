// The mirror's provides.db.gz, fetched (as metadata: size-bounded, cached like other mirror
// files, never pinned) and read once per run, when a check first asks.
import { MkError } from "../errors.js";
import { gunzipSource } from "../formats/gzip/inflate.js";
import { fileSource } from "../io/byte-source.js";
import type { ResolvedManifest } from "../manifest/types.js";
import { under } from "../net/location.js";
import { fetchToStore } from "../store/fetch.js";
import { tczIndexPath } from "../tinycore/mirror-layout.js";
import { parseProvides, type ProvidesIndex, type Providers } from "../tinycore/provides.js";
import type { ResolveContext } from "./context.js";

export function mirrorProvidesIndex(
  m: ResolvedManifest,
  ctx: ResolveContext,
): () => Promise<ProvidesIndex | undefined> {
  let loaded: Promise<ProvidesIndex | undefined> | undefined;
  return () =>
    (loaded ??= (async () => {
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
    })());
}

export function mirrorProviders(m: ResolvedManifest, ctx: ResolveContext): Providers {
  const index = mirrorProvidesIndex(m, ctx);
  return async (name) => {
    const i = await index();
    return i ? (i.byName.get(name) ?? []) : undefined;
  };
}
