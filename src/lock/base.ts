// The base ISO: from base.url or the mirror's release directory, pinned by sha256. A mirror
// copied without symlinks stores Core-current.iso as a small text file naming the real
// ISO: that is followed once, with a warning.
import { readFileSync, statSync } from "node:fs";
import { MkError } from "../errors.js";
import type { ResolvedManifest } from "../manifest/types.js";
import { describeLocation, locationOf, under, type Location } from "../net/location.js";
import { releasePath } from "../tinycore/mirror-layout.js";
import type { Collector } from "./collector.js";
import { distributionFiles, resolveBaseParts, type BaseIso } from "./base-parts.js";
import type { Lock } from "./lock-file.js";
import type { ResolveContext } from "./context.js";
import { nearestSeries, whatTheMirrorHas } from "./base-hints.js";

export function baseIsoLocation(m: ResolvedManifest, ctx: Pick<ResolveContext, "mirror" | "baseDir">): Location {
  if (m.base.url) return locationOf(m.base.url, ctx.baseDir);
  if (m.base.iso) return under(ctx.mirror, releasePath(m.base.release, m.base.arch, m.base.iso));
  return distributionFiles(m, ctx);
}

/** A tiny one-line file naming an .iso beside it: how git and some copies store a symlink. */
function linkFileTarget(path: string): string | undefined {
  if (statSync(path).size > 255) return undefined; // an ISO: never read it whole here
  const b = readFileSync(path);
  if (b.includes(0)) return undefined;
  const m = /^([\w.+-]+\.iso)\s*$/.exec(b.toString("latin1"));
  return m?.[1];
}

function sibling(l: Location, name: string): Location {
  return l.kind === "http"
    ? { kind: "http", url: l.url.replace(/[^/]*$/, encodeURIComponent(name)) }
    : { kind: "file", path: l.path.replace(/[^/]*$/, name) };
}

/**
 * The fetched base ISO (assembled, for a distribution-files base) and where it came from;
 * null when fetching failed (the collector reports it).
 */
export async function resolveBase(
  m: ResolvedManifest,
  ctx: ResolveContext,
  c: Collector,
): Promise<{ from: Location; iso: BaseIso | null; parts?: NonNullable<Lock["baseParts"]> }> {
  if (m.base.kernel) {
    const { iso, parts, missing } = await resolveBaseParts(m, ctx, c);
    if (iso === undefined)
      throw new MkError(
        "resolve",
        missing.map((l) => `base part not found: ${l}`),
      );
    return { from: distributionFiles(m, ctx), iso, parts };
  }
  const label = m.base.url ?? m.base.iso!;
  const expect = m.base.sha256 ? { sha256: m.base.sha256 } : {};
  let from = baseIsoLocation(m, ctx);
  const pin = m.base.sha256
    ? {
        at: ctx.whereKey?.(["base", "sha256"]),
        hint: "base.sha256 pins other bytes: if this ISO is the one you want, set base.sha256 to the sha256 it has",
      }
    : undefined;
  let iso = await c.get(from, label, expect, pin);
  const target = iso ? linkFileTarget(iso.path) : undefined;
  if (iso && target) {
    const followed = sibling(from, target);
    ctx.log.warn(`${describeLocation(from)} is a link file naming ${target}; using ${describeLocation(followed)}`);
    from = followed;
    iso = await c.get(from, target, expect, pin);
  }
  if (iso === undefined) {
    const hint = m.base.iso && !m.base.url ? await missingBaseHint(m, ctx) : undefined;
    throw new MkError("resolve", `base ISO not found: ${describeLocation(from)}`, hint ? { hint } : {});
  }
  return { from, iso };
}

/** What to write instead: the ISOs the series has, or the series the mirror has for the arch. */
async function missingBaseHint(m: ResolvedManifest, ctx: ResolveContext): Promise<string | undefined> {
  const { release, arch } = m.base;
  const has = await whatTheMirrorHas(ctx.mirror, release, arch, ctx.fetch.download.dispatcher);
  if (has.isos.length) return `${release}/${arch}/release/ has ${has.isos.join(", ")}: set base.iso to one of them`;
  if (!has.series.length)
    // An HTTP mirror without index pages tells nothing; a directory with no series is wrong.
    return ctx.mirror.kind === "file" ? `the mirror has no series with an ${arch}/release/ directory` : undefined;
  const near = nearestSeries(release, has.series)!;
  return `the mirror has no ${release} for ${arch}; it has ${has.series.join(", ")}: try base.release: ${near}`;
}
