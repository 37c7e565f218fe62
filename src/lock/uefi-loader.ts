// boot.uefi's loader as a download: a local file or URL pinned by the manifest's sha256 (and
// the lock's size). A loader taken from an extension is pinned with the extension instead
// (lock-file.ts counts it among the extract sources).
import { MkError } from "../errors.js";
import type { ResolvedManifest } from "../manifest/types.js";
import { describeLocation, locationOf, type Location } from "../net/location.js";
import type { Collector } from "./collector.js";
import type { ResolveContext } from "./context.js";
import type { Lock } from "./lock-file.js";

export const LOADER_LABEL = "boot.uefi.loader";

/** Where the pinned loader comes from, or undefined when there is none (no UEFI, or an extension's file). */
export function uefiLoaderLocation(m: ResolvedManifest, ctx: Pick<ResolveContext, "baseDir">): Location | undefined {
  const loader = m.boot.uefi?.loader;
  return loader && "url" in loader ? locationOf(loader.url, ctx.baseDir) : undefined;
}

/** Fetches and verifies the loader: its pin for the lock; null when fetching failed (reported by the collector). */
export async function resolveUefiLoader(
  m: ResolvedManifest,
  ctx: ResolveContext,
  c: Collector,
): Promise<Lock["uefiLoader"] | null | undefined> {
  const from = uefiLoaderLocation(m, ctx);
  const loader = m.boot.uefi?.loader;
  if (!from || !loader || !("url" in loader)) return undefined;
  const got = await c.get(
    from,
    LOADER_LABEL,
    { sha256: loader.sha256 },
    {
      at: ctx.whereKey?.(["boot", "uefi", "loader", "sha256"]),
      hint: "boot.uefi.loader.sha256 pins other bytes: if this loader is the one you want, set its sha256 to the one it has",
    },
  );
  if (got === undefined) throw new MkError("resolve", `${LOADER_LABEL} not found: ${describeLocation(from)}`);
  return got && { url: describeLocation(from), sha256: got.sha256, size: got.size };
}
