// Downloads into a file while hashing: undici for http(s) with retries (connection errors
// and 5xx, never 4xx), exponential backoff, Range resume after a dropped connection,
// HTTP(S)_PROXY/NO_PROXY; local mirrors are copied. Every write is positioned, so after a
// restart the file is exactly the bytes hashed. Each file has a deadline for its whole
// transfer (all attempts) and a size it may not exceed.
import { createHash, type Hash } from "node:crypto";
import { closeSync, constants, createReadStream, fstatSync, ftruncateSync, openSync, writeSync } from "node:fs";
import type { Dispatcher } from "undici";
import { undiciLib } from "../io/lazy.js";
import { errnoReason, MkError, problem } from "../errors.js";
import { FetchError } from "./errors.js";
import type { Location } from "./location.js";

export interface DownloadOptions {
  /** The longest one file may take, every attempt included (--download-timeout). */
  timeoutMs: number;
  /** Attempts after the first. */
  retries: number;
  /** Base of the exponential backoff between attempts. */
  backoffMs: number;
  /** More bytes than this is an error (the lock's size when pinned, a cap otherwise). */
  maxBytes: number;
  /** Cached validators: a 304 means the cached copy is current. */
  etag?: string;
  lastModified?: string;
  onBytes?: (n: number) => void;
  /** The connection pool (proxyDispatcher): the configuration's proxies. */
  dispatcher: Dispatcher;
  /** Sent with every attempt (a registry's Authorization); dropped on a redirect to another origin. */
  headers?: Record<string, string>;
}

export type DownloadResult =
  | { status: "ok"; size: number; sha256: string; md5: string; etag?: string; lastModified?: string }
  | { status: "not-modified" }
  | { status: "missing" };

/** How long a connection may stay silent (headers, or a pause in the body) before the attempt is retried. */
const STALL_MS = 30_000;

/** The proxies the configuration resolved (http_proxy, https_proxy, no_proxy; "" for none). */
export interface ProxySettings {
  httpProxy: string;
  httpsProxy: string;
  noProxy: string;
}

const pools = new Map<string, Dispatcher>();
/**
 * One connection pool per proxy setting, following redirects. The settings are always given,
 * so undici never reads the process environment itself.
 */
export function proxyDispatcher(p: ProxySettings): Dispatcher {
  const key = JSON.stringify([p.httpProxy, p.httpsProxy, p.noProxy]);
  let d = pools.get(key);
  if (!d) {
    const { EnvHttpProxyAgent, interceptors } = undiciLib();
    const agent = new EnvHttpProxyAgent({
      httpProxy: p.httpProxy,
      httpsProxy: p.httpsProxy || p.httpProxy,
      noProxy: p.noProxy,
    });
    d = agent.compose(interceptors.redirect({ maxRedirections: 5 }));
    pools.set(key, d);
  }
  return d;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Sink {
  fd: number;
  /** The cache file being written, for a disk-full or read-only message. */
  file: string;
  size: number;
  sha256: Hash;
  md5: Hash;
}

const newSink = (fd: number, file: string): Sink => ({
  fd,
  file,
  size: 0,
  sha256: createHash("sha256"),
  md5: createHash("md5"),
});

/** Writes at the sink's own position: what is on disk is always the bytes hashed, in order. */
function write(sink: Sink, chunk: Buffer, url: string, maxBytes: number): void {
  if (sink.size + chunk.length > maxBytes)
    throw new FetchError(url, `${url} sent more than ${maxBytes} bytes, the most this file may have`);
  try {
    for (let off = 0; off < chunk.length;) off += writeSync(sink.fd, chunk, off, chunk.length - off, sink.size + off);
  } catch (e) {
    // The cache's disk, not the download, failed: never retried, never blamed on the URL.
    throw new MkError("io", problem(sink.file, `cannot write the downloaded bytes here: ${errnoReason(e)}`));
  }
  sink.size += chunk.length;
  sink.sha256.update(chunk);
  sink.md5.update(chunk);
}

/** Creates `file` (never an existing file, never through a symlink) and downloads into it. */
export async function download(from: Location, file: string, opts: DownloadOptions): Promise<DownloadResult> {
  const fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
  try {
    return from.kind === "file"
      ? await copyLocal(from.path, newSink(fd, file), opts)
      : await fetchHttp(from.url, fd, file, opts);
  } finally {
    closeSync(fd);
  }
}

async function copyLocal(path: string, sink: Sink, opts: DownloadOptions): Promise<DownloadResult> {
  const url = `file://${path}`;
  let stamp: string;
  try {
    // Opened without blocking and checked before a byte is read: a FIFO would wait for a
    // writer forever, /dev/zero never ends. Only a regular file is a download.
    const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    const st = fstatSync(fd);
    if (!st.isFile()) {
      closeSync(fd);
      throw new FetchError(url, `${path} is not a regular file (a directory, a FIFO, a device or a socket)`);
    }
    // A local file's identity, size and mtime play the part of an HTTP Last-Modified: the
    // same stamp as the cached copy's is a 304, and nothing is copied again.
    stamp = `${st.ino}:${st.size}:${st.mtimeMs}`;
    if (opts.lastModified === stamp) {
      closeSync(fd);
      return { status: "not-modified" };
    }
    for await (const chunk of createReadStream("", { fd })) {
      write(sink, chunk as Buffer, url, opts.maxBytes);
      opts.onBytes?.((chunk as Buffer).length);
    }
  } catch (e) {
    if (e instanceof MkError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return { status: "missing" };
    throw new FetchError(url, `cannot read ${path}: ${code ?? String(e)}`);
  }
  return {
    status: "ok",
    size: sink.size,
    sha256: sink.sha256.digest("hex"),
    md5: sink.md5.digest("hex"),
    lastModified: stamp,
  };
}

const RETRYABLE_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "EPIPE",
  "ETIMEDOUT",
  "EAI_AGAIN",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
  "UND_ERR_CLOSED",
  "UND_ERR_RES_CONTENT_LENGTH_MISMATCH",
]);

function describeFailure(e: unknown, url: string, stallMs: number): string {
  const code = (e as { code?: string }).code ?? "";
  if (code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_BODY_TIMEOUT" || code === "UND_ERR_CONNECT_TIMEOUT")
    return `timed out after ${stallMs / 1000} s waiting for ${url}`;
  if (code === "ECONNREFUSED") return `connection refused by ${url.replace(/^(\w+:\/\/[^/]+).*$/, "$1")}`;
  if (code === "ENOTFOUND" || code === "EAI_AGAIN")
    return (
      `cannot resolve the host of ${url} (${code}: no DNS answer; offline, or a misspelt host?): ` +
      "give --mirror a reachable mirror or a local copy, or use --offline to build from the download cache"
    );
  return `${(e as Error).message || code} (${url})`;
}

async function fetchHttp(url: string, fd: number, file: string, opts: DownloadOptions): Promise<DownloadResult> {
  const dispatcher = opts.dispatcher;
  const deadline = Date.now() + opts.timeoutMs;
  const stallMs = Math.min(STALL_MS, opts.timeoutMs);
  const overdue = () =>
    new FetchError(
      url,
      `timed out after ${opts.timeoutMs / 1000} s waiting for ${url} (--download-timeout: the whole transfer, retries included)`,
    );
  let sink = newSink(fd, file);
  let etag: string | undefined;
  let lastModified: string | undefined;
  let lastError = "";
  for (let attempt = 0; attempt <= opts.retries; attempt++) {
    if (attempt > 0) await sleep(Math.min(opts.backoffMs * 2 ** (attempt - 1), Math.max(0, deadline - Date.now())));
    if (Date.now() >= deadline) throw overdue();
    const resuming = sink.size > 0;
    const headers: Record<string, string> = {
      "user-agent": "mkbundle",
      "accept-encoding": "identity",
      ...opts.headers,
    };
    if (resuming) {
      headers["range"] = `bytes=${sink.size}-`;
      if (etag) headers["if-range"] = etag;
    } else {
      if (opts.etag) headers["if-none-match"] = opts.etag;
      if (opts.lastModified) headers["if-modified-since"] = opts.lastModified;
    }
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), Math.max(0, deadline - Date.now()));
    try {
      let res: Dispatcher.ResponseData;
      try {
        res = await undiciLib().request(url, {
          method: "GET",
          headers,
          dispatcher,
          headersTimeout: stallMs,
          bodyTimeout: stallMs,
          signal: abort.signal,
        });
      } catch (e) {
        if (abort.signal.aborted) throw overdue();
        lastError = describeFailure(e, url, stallMs);
        if (RETRYABLE_CODES.has((e as { code?: string }).code ?? "") || (e as Error).name === "SocketError") continue;
        throw new FetchError(url, lastError);
      }
      const status = res.statusCode;
      if (status === 304 && !resuming) {
        await res.body.dump();
        return { status: "not-modified" };
      }
      if (status === 404 || status === 410) {
        await res.body.dump();
        return { status: "missing" };
      }
      if (status >= 500) {
        await res.body.dump();
        lastError = `HTTP ${status} from ${url}`;
        continue;
      }
      if (status !== 200 && status !== 206) {
        await res.body.dump();
        throw new FetchError(url, `HTTP ${status} from ${url}`);
      }
      if (status === 200 && resuming) {
        // The server ignored the range (or the file changed): start over, from byte 0, and
        // take back the bytes already counted, so the progress total counts each byte once.
        opts.onBytes?.(-sink.size);
        ftruncateSync(fd, 0);
        sink = newSink(fd, file);
      }
      if (status === 206) {
        const start = /bytes (\d+)-/.exec(String(res.headers["content-range"] ?? ""))?.[1];
        if (Number(start) !== sink.size) {
          await res.body.dump();
          throw new FetchError(url, `HTTP 206 from ${url} resumed at byte ${start}, expected ${sink.size}`);
        }
      }
      const length = res.headers["content-length"] !== undefined ? Number(res.headers["content-length"]) : undefined;
      if (length !== undefined && sink.size + length > opts.maxBytes) {
        await res.body.dump().catch(() => {});
        throw new FetchError(
          url,
          `${url} is ${sink.size + length} bytes, more than the ${opts.maxBytes} this file may have`,
        );
      }
      etag = typeof res.headers["etag"] === "string" ? res.headers["etag"] : etag;
      lastModified = typeof res.headers["last-modified"] === "string" ? res.headers["last-modified"] : lastModified;
      const expected = length !== undefined ? sink.size + length : undefined;
      try {
        for await (const chunk of res.body) {
          write(sink, chunk as Buffer, url, opts.maxBytes);
          opts.onBytes?.((chunk as Buffer).length);
        }
        if (expected !== undefined && sink.size < expected)
          throw Object.assign(new Error("connection closed early"), { code: "UND_ERR_RES_CONTENT_LENGTH_MISMATCH" });
      } catch (e) {
        if (e instanceof MkError) throw e;
        if (abort.signal.aborted) throw overdue();
        lastError = describeFailure(e, url, stallMs);
        continue; // resume from sink.size
      }
      return {
        status: "ok",
        size: sink.size,
        sha256: sink.sha256.digest("hex"),
        md5: sink.md5.digest("hex"),
        ...(etag ? { etag } : {}),
        ...(lastModified ? { lastModified } : {}),
      };
    } finally {
      clearTimeout(timer);
    }
  }
  throw new FetchError(url, `gave up after ${opts.retries + 1} attempts: ${lastError}`);
}
