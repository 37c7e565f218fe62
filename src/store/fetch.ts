// Every download goes through here: from the store when the content is known (and still
// verifies), else from the network (conditional on the cached ETag/Last-Modified), verified
// (md5 and/or sha256, hashed from the file on disk) before it is stored under its sha256.
import { rmSync } from "node:fs";
import { onInterrupt } from "../io/cleanup.js";
import { hashFile } from "../io/hash.js";
import { adoptBlob, blobPath, hasBlob, readIndex, removeBlob, tempFile, writeIndex, type Store } from "./cas.js";
import { download, type DownloadOptions } from "../net/download.js";
import { OfflineMissError, VerifyError } from "../net/errors.js";
import { describeLocation, type Location } from "../net/location.js";
import type { Progress } from "./progress.js";
import type { BlobCache } from "./registry-cache.js";

export interface FetchContext {
  store: Store;
  offline: boolean;
  progress: Progress;
  /** Concurrency limiter (--jobs). */
  limit: <T>(task: () => Promise<T>) => Promise<T>;
  download: Omit<DownloadOptions, "onBytes" | "etag" | "lastModified" | "maxBytes">;
  /** Told when a cached blob no longer matched its digest (and was fetched again). */
  warn?: (message: string) => void;
  /** --cache-registry: asked before the mirror for pinned files, given every verified download. */
  shared?: BlobCache;
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
  /** The exact size, when pinned. */
  size?: number;
  /** A small metadata file (.dep, .md5.txt, an index): capped at METADATA_MAX. */
  metadata?: boolean;
}

/** The most a metadata file (.dep, .md5.txt, .info, .list, a gem index) may have. */
const METADATA_MAX = 16 * 1024 * 1024;
/** The most any one download may have when nothing pins its size. */
const PAYLOAD_MAX = 8 * 1024 ** 3;

const maxBytesOf = (e: Expect) => e.size ?? (e.metadata ? METADATA_MAX : PAYLOAD_MAX);

/** Fetches into the store; undefined when the source says the file does not exist (404). */
export async function fetchToStore(
  ctx: FetchContext,
  from: Location,
  label: string,
  expect: Expect = {},
): Promise<Fetched | undefined> {
  const url = describeLocation(from);
  const rec = readIndex(ctx.store, url);
  const cached = (sha256: string, md5: string, size: number): Fetched => {
    ctx.progress.end(label, { size, cached: true, ms: 0 });
    return { url, sha256, md5, size, path: blobPath(ctx.store, sha256), cached: true };
  };
  // Pinned content that is already here (from this URL or any other) needs no network, if
  // it still is what its name says: a blob changed on disk is dropped and fetched again.
  const known = expect.sha256 ?? (ctx.offline ? rec?.sha256 : undefined);
  if (known && hasBlob(ctx.store, known)) {
    const found = await hashFile(blobPath(ctx.store, known));
    if (found.sha256 === known) {
      verify(url, expect, found.sha256, found.md5, found.size);
      return cached(known, found.md5, found.size);
    }
    removeBlob(ctx.store, known);
    const damaged = `the cached blob ${known} (${label}) does not match its sha256 any more (it is ${found.sha256})`;
    if (ctx.offline)
      throw new VerifyError(
        url,
        `${damaged}; it was removed from the cache, and --offline cannot fetch it again (run without --offline, or mkbundle cache verify --repair)`,
      );
    ctx.warn?.(`${damaged}: removed from the cache, fetching it again`);
  }
  if (ctx.offline) {
    if (rec?.missing) return undefined;
    throw new OfflineMissError(url);
  }
  return ctx.limit(async () => {
    const usable = rec?.sha256 && hasBlob(ctx.store, rec.sha256) ? rec : undefined;
    const tmp = tempFile(ctx.store);
    const forget = onInterrupt(() => rmSync(tmp, { force: true }));
    const started = Date.now();
    ctx.progress.begin(label, expect.size);
    try {
      if (expect.sha256 && ctx.shared && (await ctx.shared.get(expect.sha256, tmp, maxBytesOf(expect)))) {
        const got = await hashFile(tmp);
        verify(url, expect, got.sha256, got.md5, got.size); // md5 and size pins too
        const path = adoptBlob(ctx.store, tmp, got.sha256);
        writeIndex(ctx.store, { url, sha256: got.sha256, md5: got.md5, size: got.size });
        ctx.progress.bytes(got.size, label); // downloaded, from the registry: counted like any download
        ctx.progress.end(label, { size: got.size, cached: false, ms: Date.now() - started, from: ctx.shared.name });
        return { url, sha256: got.sha256, md5: got.md5, size: got.size, path, cached: false };
      }
      const r = await download(from, tmp, {
        ...ctx.download,
        maxBytes: maxBytesOf(expect),
        ...(usable?.etag ? { etag: usable.etag } : {}),
        ...(usable?.lastModified ? { lastModified: usable.lastModified } : {}),
        onBytes: (n) => ctx.progress.bytes(n, label),
      });
      if (r.status === "missing") {
        writeIndex(ctx.store, { url, missing: true });
        return undefined;
      }
      if (r.status === "not-modified") {
        const path = blobPath(ctx.store, usable!.sha256!);
        const found = await hashFile(path);
        if (found.sha256 !== usable!.sha256)
          throw new VerifyError(
            url,
            `the cached copy of ${url} does not match its sha256 any more; run mkbundle cache verify --repair`,
          );
        verify(url, expect, found.sha256, found.md5, found.size);
        return cached(found.sha256, found.md5, found.size);
      }
      // What is on disk, not what went by: the bytes that will be used.
      const onDisk = await hashFile(tmp);
      if (onDisk.sha256 !== r.sha256 || onDisk.size !== r.size)
        throw new VerifyError(url, `${url}: the file written differs from the bytes received`);
      verify(url, expect, onDisk.sha256, onDisk.md5, onDisk.size);
      const path = adoptBlob(ctx.store, tmp, onDisk.sha256);
      writeIndex(ctx.store, {
        url,
        sha256: onDisk.sha256,
        md5: onDisk.md5,
        size: onDisk.size,
        ...(r.etag ? { etag: r.etag } : {}),
        ...(r.lastModified ? { lastModified: r.lastModified } : {}),
      });
      ctx.progress.end(label, { size: onDisk.size, cached: false, ms: Date.now() - started });
      await ctx.shared?.put(onDisk.sha256, path, onDisk.size);
      return { url, sha256: onDisk.sha256, md5: onDisk.md5, size: onDisk.size, path, cached: false };
    } finally {
      rmSync(tmp, { force: true });
      forget();
    }
  });
}

function verify(url: string, expect: Expect, sha256: string, md5: string, size: number): void {
  if (expect.md5 && expect.md5 !== md5)
    throw new VerifyError(url, `md5 mismatch for ${url}: expected ${expect.md5}, got ${md5}`);
  if (expect.sha256 && expect.sha256 !== sha256)
    throw new VerifyError(url, `sha256 mismatch for ${url}: expected ${expect.sha256}, got ${sha256}`);
  if (expect.size !== undefined && expect.size !== size)
    throw new VerifyError(url, `size mismatch for ${url}: expected ${expect.size} bytes, got ${size}`);
}
