// The download cache's upkeep: `cache ls` (each blob and the URLs it came from), `cache
// verify` (blobs whose bytes no longer match their name) and `cache gc` (blobs no lock file
// references; without a lock file to keep, it refuses to empty the cache unless told to).
import { MkError } from "../errors.js";
import {
  collectGarbage,
  damagedBlobs,
  garbageOf,
  listBlobs,
  listIndex,
  removeBlob,
  stalePartials,
  type Store,
} from "./cas.js";
import { humanBytes } from "./progress.js";

export interface GcPlan {
  locks: readonly string[];
  keep: ReadonlySet<string>;
  garbage: { sha256: string; size: number; url?: string }[];
  /** Partial downloads of interrupted (killed) processes. */
  partials: { path: string; size: number }[];
}

/** What gc would remove: every blob not in `keep` (the pins of `locks`). */
export function planGc(
  store: Store,
  locks: readonly string[],
  keep: ReadonlySet<string>,
  o: { all?: boolean; paths: readonly string[] },
): GcPlan {
  const urls = new Map(listIndex(store).flatMap((r) => (r.sha256 ? [[r.sha256, r.url] as const] : [])));
  const garbage = garbageOf(store, keep).map((b) => ({
    ...b,
    ...(urls.has(b.sha256) ? { url: urls.get(b.sha256)! } : {}),
  }));
  if (!locks.length && garbage.length && !o.all)
    throw new MkError(
      "usage",
      `no lock file under ${o.paths.join(", ")}: gc would remove all ${describeBlobs(garbage)}`,
      {
        file: "mkbundle cache gc",
        hint: "name the directories holding your .lock files, or pass --all --yes to empty the cache",
      },
    );
  return { locks, keep, garbage, partials: stalePartials(store) };
}

/** "3 blobs (1.2 MiB)" */
export const describeBlobs = (blobs: readonly { size: number }[]): string =>
  `${blobs.length} blob${blobs.length === 1 ? "" : "s"} (${humanBytes(blobs.reduce((n, b) => n + b.size, 0))})`;

export const runGc = (store: Store, plan: GcPlan): { removed: number; freed: number } =>
  collectGarbage(store, plan.keep);

/** Every blob with the URLs it was fetched from. */
export function listCache(store: Store): { sha256: string; size: number; urls: string[] }[] {
  const urls = new Map<string, string[]>();
  for (const r of listIndex(store)) if (r.sha256) urls.set(r.sha256, [...(urls.get(r.sha256) ?? []), r.url]);
  return listBlobs(store).map((b) => ({ ...b, urls: urls.get(b.sha256) ?? [] }));
}

/** Hashes every blob; those that no longer match their name, removed when `repair`. */
export async function verifyCache(
  store: Store,
  repair: boolean,
): Promise<{ checked: number; damaged: { sha256: string; actual: string; size: number }[] }> {
  const checked = listBlobs(store).length;
  const damaged = await damagedBlobs(store);
  if (repair) for (const d of damaged) removeBlob(store, d.sha256);
  return { checked, damaged };
}
