// kernel_modules given as a download: a local file or URL pinned by the manifest's sha256
// (and the lock's size), as boot.uefi's loader is. Fetched into the store, each verified.
import { MkError } from "../errors.js";
import type { ResolvedManifest } from "../manifest/types.js";
import { describeLocation, locationOf, type Location } from "../net/location.js";
import type { Collector } from "./collector.js";
import type { ResolveContext } from "./context.js";
import { moduleDownloads, type Lock } from "./lock-file.js";

/** Each downloaded module's place, label and manifest index. */
export function moduleLocations(
  m: ResolvedManifest,
  ctx: Pick<ResolveContext, "baseDir">,
): { from: Location; label: string; index: number; sha256: string }[] {
  const out: { from: Location; label: string; index: number; sha256: string }[] = [];
  (m.kernel_modules ?? []).forEach((k, index) => {
    if ("url" in k)
      out.push({ from: locationOf(k.url, ctx.baseDir), label: `kernel_modules[${index}]`, index, sha256: k.sha256 });
  });
  return out;
}

/** Fetches and verifies each module: their pins for the lock; null when a fetch failed (reported by the collector). */
export async function resolveModuleDownloads(
  m: ResolvedManifest,
  ctx: ResolveContext,
  c: Collector,
): Promise<Lock["kernelModules"] | null | undefined> {
  if (!moduleDownloads(m).length) return undefined;
  const pins = await Promise.all(
    moduleLocations(m, ctx).map(async (d) => {
      const got = await c.get(
        d.from,
        d.label,
        { sha256: d.sha256 },
        {
          at: ctx.whereKey?.(["kernel_modules", d.index, "sha256"]),
          hint: `${d.label}.sha256 pins other bytes: if this module is the one you want, set its sha256 to the one it has`,
        },
      );
      if (got === undefined) throw new MkError("resolve", `${d.label} not found: ${describeLocation(d.from)}`);
      return got && { url: describeLocation(d.from), sha256: got.sha256, size: got.size };
    }),
  );
  return pins.every((p) => p) ? (pins as NonNullable<Lock["kernelModules"]>) : null;
}
