// The content-addressed store under <work-dir>/cache: blobs named by sha256, and an index
// from URL to sha256 (with ETag and Last-Modified, or "missing" for a 404). Blobs and
// index records are written to temporary names and renamed: concurrent builds sharing
// a cache both succeed, and the store never holds an unverified or partial file.
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";

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

export function openStore(workDir: string): Store {
  const root = join(workDir, "cache");
  for (const d of ["blobs", "index", "tmp"]) mkdirSync(join(root, d), { recursive: true });
  return { root };
}

const sha = (s: string) => createHash("sha256").update(s).digest("hex");

export const blobPath = (s: Store, sha256: string): string => join(s.root, "blobs", sha256.slice(0, 2), sha256);
export const hasBlob = (s: Store, sha256: string): boolean => existsSync(blobPath(s, sha256));
export const tempFile = (s: Store): string => join(s.root, "tmp", `${process.pid}-${randomBytes(6).toString("hex")}`);

/** Moves a verified temporary file into the store under its digest. */
export function adoptBlob(s: Store, tmp: string, sha256: string): string {
  const dest = blobPath(s, sha256);
  mkdirSync(join(s.root, "blobs", sha256.slice(0, 2)), { recursive: true });
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
  writeFileSync(tmp, JSON.stringify(rec, null, 1) + "\n");
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
  for (const d of readdirSync(blobs))
    for (const f of readdirSync(join(blobs, d))) out.push({ sha256: f, size: statSync(join(blobs, d, f)).size });
  return out.sort((a, b) => a.sha256.localeCompare(b.sha256));
}

/** Drops blobs not in `keep`, index records pointing at them, and leftover temporary files. */
export function collectGarbage(s: Store, keep: ReadonlySet<string>): { removed: number; freed: number } {
  let removed = 0;
  let freed = 0;
  for (const b of listBlobs(s)) {
    if (keep.has(b.sha256)) continue;
    rmSync(blobPath(s, b.sha256), { force: true });
    removed++;
    freed += b.size;
  }
  for (const rec of listIndex(s))
    if (rec.sha256 && !keep.has(rec.sha256)) rmSync(join(s.root, "index", `${sha(rec.url)}.json`), { force: true });
  // Leftovers of interrupted downloads; recent ones may belong to a build running now.
  for (const t of readdirSync(join(s.root, "tmp"))) {
    const p = join(s.root, "tmp", t);
    if (Date.now() - statSync(p).mtimeMs > 24 * 3600 * 1000) rmSync(p, { force: true });
  }
  return { removed, freed };
}
