// The content-addressed store under <work-dir>/cache: blobs named by sha256, and an index
// from URL to sha256 (with ETag and Last-Modified, or "missing" for a 404). Blobs and
// index records are written to temporary names and renamed: concurrent builds sharing
// a cache both succeed, and the store never holds an unverified or partial file.
import { ensureDir } from "../io/ensure-dir.js";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { MkError } from "../errors.js";
import { hashFile } from "../io/hash.js";
import { processGone } from "../io/process-gone.js";

export interface Store {
  root: string;
}

export interface IndexRecord {
  url: string;
  sha256?: string;
  size?: number;
  md5?: string;
  etag?: string;
  lastModified?: string;
  /** The server answered 404: remembered so that --offline knows too. */
  missing?: true;
}

/** --append-initrd's compressed overlay layers (remaster/layers.ts): a cache of our own outputs. */
export const layerCacheOf = (s: Store): string => join(s.root, "layers");

export function openStore(workDir: string): Store {
  const root = join(workDir, "cache");
  for (const d of ["blobs", "index", "tmp"]) ensureDir(join(root, d));
  return { root };
}

const sha = (s: string) => createHash("sha256").update(s).digest("hex");

const SHA256 = /^[0-9a-f]{64}$/;

/** Where a blob lives; a digest that is not 64 hex digits (from a hand-edited lock, say) never becomes a path. */
export function blobPath(s: Store, sha256: string): string {
  if (!SHA256.test(sha256)) throw new MkError("input", `'${sha256.slice(0, 80)}' is not a sha256 digest`);
  return join(s.root, "blobs", sha256.slice(0, 2), sha256);
}
export const hasBlob = (s: Store, sha256: string): boolean => existsSync(blobPath(s, sha256));
export const tempFile = (s: Store): string => join(s.root, "tmp", `${process.pid}-${randomBytes(6).toString("hex")}`);

/** Moves a verified temporary file into the store under its digest. */
export function adoptBlob(s: Store, tmp: string, sha256: string): string {
  const dest = blobPath(s, sha256);
  ensureDir(join(s.root, "blobs", sha256.slice(0, 2)));
  renameSync(tmp, dest); // same content if another build got here first: replacing it is harmless
  return dest;
}

export function readIndex(s: Store, url: string): IndexRecord | undefined {
  try {
    const rec = JSON.parse(readFileSync(join(s.root, "index", `${sha(url)}.json`), "utf8")) as IndexRecord;
    return rec.url === url ? rec : undefined;
  } catch {
    return undefined;
  }
}

export function writeIndex(s: Store, rec: IndexRecord): void {
  const tmp = tempFile(s);
  writeFileSync(tmp, JSON.stringify(rec, null, 1) + "\n", { flag: "wx" });
  renameSync(tmp, join(s.root, "index", `${sha(rec.url)}.json`));
}

export function listIndex(s: Store): IndexRecord[] {
  const dir = join(s.root, "index");
  return readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .flatMap((f) => {
      try {
        return [JSON.parse(readFileSync(join(dir, f), "utf8")) as IndexRecord];
      } catch {
        return [];
      }
    })
    .sort((a, b) => a.url.localeCompare(b.url));
}

export function listBlobs(s: Store): { sha256: string; size: number }[] {
  const out: { sha256: string; size: number }[] = [];
  const blobs = join(s.root, "blobs");
  for (const d of readdirSync(blobs).filter((d) => /^[0-9a-f]{2}$/.test(d))) {
    for (const f of readdirSync(join(blobs, d))) {
      if (SHA256.test(f) && f.startsWith(d)) out.push({ sha256: f, size: statSync(join(blobs, d, f)).size });
    }
  }
  return out.sort((a, b) => a.sha256.localeCompare(b.sha256));
}

/** The blobs `collectGarbage` would drop: those not in `keep`. */
export const garbageOf = (s: Store, keep: ReadonlySet<string>): { sha256: string; size: number }[] =>
  listBlobs(s).filter((b) => !keep.has(b.sha256));

/** Drops blobs not in `keep`, index records pointing at them, and leftover temporary files. */
export function collectGarbage(s: Store, keep: ReadonlySet<string>): { removed: number; freed: number } {
  let removed = 0;
  let freed = 0;
  for (const b of garbageOf(s, keep)) {
    rmSync(blobPath(s, b.sha256), { force: true });
    removed++;
    freed += b.size;
  }
  for (const rec of listIndex(s))
    if (rec.sha256 && !keep.has(rec.sha256)) rmSync(join(s.root, "index", `${sha(rec.url)}.json`), { force: true });
  // Overlay layers are our own outputs, made again at will.
  rmSync(layerCacheOf(s), { recursive: true, force: true });
  for (const p of stalePartials(s)) {
    rmSync(p.path, { force: true });
    freed += p.size;
  }
  return { removed, freed };
}

/**
 * Leftovers of interrupted downloads: those of processes that are gone (killed), and any a day
 * old; a recent one of a live process belongs to a build running now.
 */
export function stalePartials(s: Store): { path: string; size: number }[] {
  const out: { path: string; size: number }[] = [];
  for (const t of readdirSync(join(s.root, "tmp"))) {
    const path = join(s.root, "tmp", t);
    const st = statSync(path, { throwIfNoEntry: false });
    if (!st) continue;
    const pid = Number(t.split("-")[0]);
    if (processGone(pid) || Date.now() - st.mtimeMs > 24 * 3600 * 1000) out.push({ path, size: st.size });
  }
  return out;
}

export const removeBlob = (s: Store, sha256: string): void => rmSync(blobPath(s, sha256), { force: true });

/** Blobs whose content no longer matches their name (a flipped bit, a replaced file). */
export async function damagedBlobs(s: Store): Promise<{ sha256: string; actual: string; size: number }[]> {
  const out: { sha256: string; actual: string; size: number }[] = [];
  for (const b of listBlobs(s)) {
    const h = await hashFile(blobPath(s, b.sha256));
    if (h.sha256 !== b.sha256) out.push({ sha256: b.sha256, actual: h.sha256, size: h.size });
  }
  return out;
}
