// Every download goes through here: from the store when the content is known, else from
// the network (conditional on the cached ETag/Last-Modified), verified (md5 and/or
// sha256) before it is stored under its sha256.
import { createHash } from "node:crypto";
import { readFileSync, rmSync, statSync } from "node:fs";
import { adoptBlob, blobPath, hasBlob, readIndex, tempFile, writeIndex, type Store } from "./cas.js";
import { download, type DownloadOptions } from "./download.js";
import { OfflineMissError, VerifyError } from "./errors.js";
import { describeLocation, type Location } from "./location.js";
import type { Progress } from "./progress.js";

export interface FetchContext {
  store: Store;
  offline: boolean;
  progress: Progress;
  /** Concurrency limiter (--jobs). */
  limit: <T>(task: () => Promise<T>) => Promise<T>;
  download: Omit<DownloadOptions, "onBytes" | "etag" | "lastModified">;
}

export interface Fetched {
  url: string;
  sha256: string;
  md5: string;
  size: number;
  path: string;
  cached: boolean;
}

export interface Expect {
  md5?: string;
  sha256?: string;
}

/** Fetches into the store; undefined when the source says the file does not exist (404). */
export async function fetchToStore(
  ctx: FetchContext,
  from: Location,
  label: string,
  expect: Expect = {},
): Promise<Fetched | undefined> {
  const url = describeLocation(from);
  const rec = readIndex(ctx.store, url);
  const cached = (sha256: string, md5: string | undefined, size: number): Fetched => {
    ctx.progress.end(label, { size, cached: true, ms: 0 });
    return { url, sha256, md5: md5 ?? "", size, path: blobPath(ctx.store, sha256), cached: true };
  };
  // Pinned content that is already here (from this URL or any other) needs no network.
  if (expect.sha256 && hasBlob(ctx.store, expect.sha256)) {
    const path = blobPath(ctx.store, expect.sha256);
    const md5 =
      rec?.sha256 === expect.sha256 && rec.md5 ? rec.md5 : createHash("md5").update(readFileSync(path)).digest("hex");
    verify(url, expect, expect.sha256, md5);
    return cached(expect.sha256, md5, statSync(path).size);
  }
  if (ctx.offline) {
    if (rec?.missing) return undefined;
    if (rec?.sha256 && hasBlob(ctx.store, rec.sha256)) {
      verify(url, expect, rec.sha256, rec.md5);
      return cached(rec.sha256, rec.md5, rec.size ?? 0);
    }
    throw new OfflineMissError(url);
  }
  return ctx.limit(async () => {
    const usable = rec?.sha256 && hasBlob(ctx.store, rec.sha256) ? rec : undefined;
    const tmp = tempFile(ctx.store);
    const started = Date.now();
    ctx.progress.begin(label);
    try {
      const r = await download(from, tmp, {
        ...ctx.download,
        ...(usable?.etag ? { etag: usable.etag } : {}),
        ...(usable?.lastModified ? { lastModified: usable.lastModified } : {}),
        onBytes: (n) => ctx.progress.bytes(n),
      });
      if (r.status === "missing") {
        writeIndex(ctx.store, { url, missing: true });
        return undefined;
      }
      if (r.status === "not-modified") {
        verify(url, expect, usable!.sha256!, usable!.md5);
        return cached(usable!.sha256!, usable!.md5, usable!.size ?? 0);
      }
      verify(url, expect, r.sha256, r.md5);
      const path = adoptBlob(ctx.store, tmp, r.sha256);
      writeIndex(ctx.store, {
        url,
        sha256: r.sha256,
        md5: r.md5,
        size: r.size,
        ...(r.etag ? { etag: r.etag } : {}),
        ...(r.lastModified ? { lastModified: r.lastModified } : {}),
      });
      ctx.progress.end(label, { size: r.size, cached: false, ms: Date.now() - started });
      return { url, sha256: r.sha256, md5: r.md5, size: r.size, path, cached: false };
    } finally {
      rmSync(tmp, { force: true });
    }
  });
}

function verify(url: string, expect: Expect, sha256: string, md5: string | undefined): void {
  if (expect.md5 && md5 && expect.md5 !== md5)
    throw new VerifyError(url, `md5 mismatch for ${url}: expected ${expect.md5}, got ${md5}`);
  if (expect.sha256 && expect.sha256 !== sha256)
    throw new VerifyError(url, `sha256 mismatch for ${url}: expected ${expect.sha256}, got ${sha256}`);
}
