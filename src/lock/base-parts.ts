// A distribution-files base (base.kernel + base.initrds [+ base.isolinux]): each part is
// fetched and verified like any download, pinned in the lock's baseParts, and the base ISO
// is assembled from them into the store, where every later stage finds it by its digest.
import { rmSync } from "node:fs";
import { MkError } from "../errors.js";
import type { ResolvedManifest } from "../manifest/types.js";
import { adoptBlob, tempFile } from "../store/cas.js";
import type { Expect, Fetched } from "../store/fetch.js";
import { describeLocation, locationOf, under, type Location } from "../net/location.js";
import { assembleBaseIso, partPaths } from "../tinycore/assemble-base.js";
import { distributionFilePath } from "../tinycore/mirror-layout.js";
import { writeNewFile } from "../io/write-atomic.js";
import { onInterrupt } from "../io/cleanup.js";
import type { Collector } from "./collector.js";
import type { ResolveContext } from "./context.js";
import type { Lock } from "./lock-file.js";

type LockedPart = NonNullable<Lock["baseParts"]>[number];

/** What the lock needs of the base ISO, fetched or assembled: where it is in the store and its pin. */
export type BaseIso = Pick<Fetched, "url" | "path" | "sha256" | "size">;

interface PartSource {
  /** Where it goes: a path in the assembled ISO, or "mbr". */
  path: string;
  from: Location;
  label: string;
  expect: Expect;
}

export const distributionFiles = (m: ResolvedManifest, ctx: Pick<ResolveContext, "mirror">): Location =>
  under(ctx.mirror, distributionFilePath(m.base.release, m.base.arch));

/** Every part of the manifest's base, where it comes from and what pins it (the manifest's sha256, or the lock's). */
function partSources(m: ResolvedManifest, ctx: Pick<ResolveContext, "mirror" | "baseDir">, lock?: Lock): PartSource[] {
  const { kernel, initrds = [], isolinux } = m.base;
  if (!kernel) return [];
  const paths = partPaths({ kernel, initrds, ...(isolinux ? { isolinux } : {}) });
  const pinned = new Map((lock?.baseParts ?? []).map((p) => [p.path, p]));
  const pin = (path: string, sha256?: string): Expect => {
    const locked = pinned.get(path);
    return {
      ...(locked ? { sha256: locked.sha256, size: locked.size } : {}),
      ...(sha256 ? { sha256 } : {}),
    };
  };
  const dist = (name: string, path: string): PartSource => ({
    path,
    from: under(ctx.mirror, distributionFilePath(m.base.release, m.base.arch, name)),
    label: name,
    expect: pin(path),
  });
  const parts = [dist(kernel, paths.kernel), ...initrds.map((n, i) => dist(n, paths.initrds[i]!))];
  if (isolinux)
    for (const [key, path, label] of [
      ["bin", paths.bin, "isolinux.bin"],
      ["ldlinux", paths.ldlinux, "ldlinux.c32"],
      ["mbr", paths.mbr, "isohybrid MBR"],
    ] as const) {
      const f = isolinux[key];
      if (f) parts.push({ path, from: locationOf(f.url, ctx.baseDir), label, expect: pin(path, f.sha256) });
    }
  return parts;
}

/**
 * Fetches the parts and assembles the base ISO into the store. Undefined when a part is
 * missing, null when fetching failed (the collector reports both).
 */
export async function resolveBaseParts(
  m: ResolvedManifest,
  ctx: ResolveContext,
  c: Collector,
  lock?: Lock,
): Promise<{ iso: BaseIso | null | undefined; parts: LockedPart[]; missing: string[] }> {
  const sources = partSources(m, ctx, lock);
  const fetched = await Promise.all(sources.map((s) => c.get(s.from, s.label, s.expect)));
  const missing = sources.filter((_, i) => fetched[i] === undefined).map((s) => describeLocation(s.from));
  if (fetched.some((f) => !f)) return { iso: fetched.includes(null) ? null : undefined, parts: [], missing };
  const got = (path: string) => fetched[sources.findIndex((s) => s.path === path)]!;
  const parts = sources.map((s, i) => ({
    path: s.path,
    url: describeLocation(s.from),
    sha256: fetched[i]!.sha256,
    size: fetched[i]!.size,
  }));
  const { kernel, initrds = [], isolinux } = m.base;
  const paths = partPaths({ kernel: kernel!, initrds });
  const isoBytes = assembleBaseIso({
    kernel: { name: kernel!, path: got(paths.kernel).path },
    initrds: initrds.map((name, i) => ({ name, path: got(paths.initrds[i]!).path })),
    ...(isolinux
      ? {
          isolinux: {
            bin: got(paths.bin).path,
            ldlinux: got(paths.ldlinux).path,
            ...(isolinux.mbr ? { mbr: got(paths.mbr).path } : {}),
          },
        }
      : {}),
  });
  const store = ctx.fetch.store;
  const tmp = tempFile(store);
  const forget = onInterrupt(() => rmSync(tmp, { force: true }));
  let written: { sha256: string; size: number };
  try {
    written = await writeNewFile(tmp, isoBytes);
    if (lock && lock.base.sha256 !== written.sha256)
      throw new MkError("verify", `the base assembled from ${parts.length} pinned parts is not the one the lock pins`, {
        hint: "a different mkbundle assembles it differently: run mkbundle lock --update",
      });
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  } finally {
    forget();
  }
  const { sha256, size } = written;
  const path = adoptBlob(store, tmp, sha256);
  const url = describeLocation(distributionFiles(m, ctx));
  return {
    iso: { url, sha256, size, path },
    parts,
    missing,
  };
}
