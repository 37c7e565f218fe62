// When the base ISO is not on the mirror: what the mirror does have, so the message can say
// "this mirror has 4.x and 10.x for x86_64; CorePure64-10.1.iso in 10.x" instead of a bare
// URL. A directory mirror is listed; an HTTP mirror's index pages are read (as Tiny Core's
// mirrors serve them), briefly and bounded: a hint must never cost a build more than seconds.
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { Dispatcher } from "undici";
import { undiciLib } from "../io/lazy.js";
import type { Location } from "../net/location.js";

const INDEX_MS = 5_000;
const MAX_INDEX = 1024 * 1024;

export interface MirrorHas {
  /** Series (like 10.x) with a release directory for the arch. */
  series: string[];
  /** ISO names in the asked-for series' release directory. */
  isos: string[];
}

export async function whatTheMirrorHas(
  mirror: Location,
  release: string,
  arch: string,
  dispatcher?: Dispatcher,
): Promise<MirrorHas> {
  const list =
    mirror.kind === "file" ? listDirectory(mirror.path) : (p: string) => listIndex(mirror.url, p, dispatcher);
  const roots = (await list("")).filter((n) => /^\d+\.x$/.test(n));
  const series: string[] = [];
  for (const s of roots.sort(bySeries)) if ((await list(`${s}/${arch}/release`)).length) series.push(s);
  const isos = (await list(`${release}/${arch}/release`)).filter((n) => n.endsWith(".iso")).sort();
  return { series, isos };
}

/** The series closest to the one asked for (the newer on a tie). */
export function nearestSeries(wanted: string, have: readonly string[]): string | undefined {
  const n = parseInt(wanted, 10);
  return [...have].sort((a, b) => Math.abs(parseInt(a, 10) - n) - Math.abs(parseInt(b, 10) - n) || bySeries(b, a))[0];
}

const bySeries = (a: string, b: string) => parseInt(a, 10) - parseInt(b, 10);

const listDirectory =
  (root: string) =>
  async (path: string): Promise<string[]> => {
    const dir = join(root, path);
    try {
      return existsSync(dir) ? readdirSync(dir) : [];
    } catch {
      return [];
    }
  };

/** The names an HTTP directory index links to (its hrefs, without a trailing slash). */
async function listIndex(base: string, path: string, dispatcher?: Dispatcher): Promise<string[]> {
  try {
    const res = await undiciLib().request(`${base}/${path}${path ? "/" : ""}`, {
      ...(dispatcher ? { dispatcher } : {}),
      headersTimeout: INDEX_MS,
      bodyTimeout: INDEX_MS,
      signal: AbortSignal.timeout(INDEX_MS),
    });
    if (res.statusCode !== 200) {
      await res.body.dump().catch(() => {});
      return [];
    }
    let text = "";
    for await (const chunk of res.body) {
      text += (chunk as Buffer).toString("latin1");
      if (text.length > MAX_INDEX) break;
    }
    res.body.destroy();
    return [...text.matchAll(/href="([^"?#/]+)\/?"/g)].map((m) => decodeURIComponent(m[1]!));
  } catch {
    return [];
  }
}
