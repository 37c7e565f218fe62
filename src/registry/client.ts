// An OCI distribution client: blobs (HEAD, GET verified into a new file, monolithic upload
// with cross-repository mount), manifests (GET bounded, PUT). Anonymous, Basic and Bearer
// token authentication, answered from the registry's WWW-Authenticate challenge; credentials
// are sent only to the registry (and its token realm), never printed. Connection errors and
// 5xx are retried with backoff; every request has a deadline.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import type { Dispatcher } from "undici";
import { MkError, problem } from "../errors.js";
import { download } from "../net/download.js";
import { undiciLib } from "../io/lazy.js";
import { parseChallenge } from "./challenge.js";
import { findCredentials, sameRegistry, type CredentialSources, type Credentials } from "./credentials.js";
import { formatReference, type Reference } from "./reference.js";
import { printable } from "../tree/entry.js";

export interface ClientOptions {
  plainHttp?: boolean;
  credentials: CredentialSources;
  /** Token services on other hosts that may receive the login (MKBUNDLE_REGISTRY_TOKEN_HOSTS). */
  tokenHosts?: readonly string[];
  /** The longest one request may take, retries included. */
  timeoutMs?: number;
  /** The longest a request may wait for its first byte, or between two (default 30 s). */
  stallMs?: number;
  retries?: number;
  /** Blobs larger than this are uploaded in chunks of this size (default 64 MiB). */
  chunkBytes?: number;
  /** The connection pool (net/download.ts proxyDispatcher): the configuration's proxies. */
  dispatcher: Dispatcher;
}

export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
export const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
const MAX_MANIFEST = 4 * 1024 * 1024;
const MAX_TOKEN_RESPONSE = 1024 * 1024;
const STALL_MS = 30_000;

type Body = Buffer | (() => NodeJS.ReadableStream);
interface Sent {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Dispatcher.ResponseData["body"];
}

class RegistryError extends MkError {}

export interface RegistryClient {
  ref: Reference;
  /** Where requests go: https://host or http://host. */
  origin: string;
  hasBlob(digest: string): Promise<boolean>;
  /** The blob into `file` (created, never overwritten), checked against its digest; its size. */
  fetchBlob(digest: string, file: string, maxBytes: number): Promise<number>;
  /** Uploads the file unless the registry has the blob (or can mount it from `mountFrom`). */
  pushBlob(
    digest: string,
    data: string | Buffer,
    size: number,
    mountFrom?: string,
  ): Promise<"exists" | "mounted" | "uploaded">;
  /** The manifest's digest; `ociSubject`: the registry said it indexed the manifest's subject (OCI-Subject). */
  putManifest(reference: string, body: Buffer, mediaType?: string): Promise<{ digest: string; ociSubject: boolean }>;
  getManifest(reference: string, accept?: string): Promise<{ body: Buffer; mediaType: string; digest: string }>;
  /** The referrers API's index for a digest, or undefined when the registry has no such API (OCI 1.1 fallback). */
  referrers(digest: string): Promise<Buffer | undefined>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const header = (h: Sent["headers"], k: string): string | undefined => {
  const v = h[k];
  return Array.isArray(v) ? v[0] : v;
};

export function registryClient(ref: Reference, o: ClientOptions): RegistryClient {
  const origin = `${o.plainHttp ? "http" : "https"}://${ref.registry}`;
  const repo = `${origin}/v2/${ref.repository}`;
  const name = ref.registry;
  const dispatcher = o.dispatcher;
  const timeoutMs = o.timeoutMs ?? 600_000;
  const retries = o.retries ?? 3;
  const stallMs = o.stallMs ?? STALL_MS;
  const chunkBytes = o.chunkBytes ?? 64 * 1024 * 1024;
  let credentials: Credentials | undefined | null = null; // null: not looked up yet
  let authorization: string | undefined;
  const creds = () =>
    credentials === null ? (credentials = findCredentials(ref.registry, o.credentials)) : credentials;

  const fail = (message: string, hint?: string) =>
    new RegistryError("fetch", problem("", `registry ${name}: ${message}`, hint));

  /** One request with retries; no authentication handling. */
  async function raw(
    method: Dispatcher.HttpMethod,
    url: string,
    headers: Record<string, string>,
    body?: Body,
  ): Promise<Sent> {
    const deadline = Date.now() + timeoutMs;
    let last = "";
    for (let attempt = 0; attempt <= retries; attempt++) {
      if (attempt > 0) await sleep(Math.min(250 * 2 ** (attempt - 1), Math.max(0, deadline - Date.now())));
      if (Date.now() >= deadline) break;
      try {
        const res = await undiciLib().request(url, {
          method,
          headers: { "user-agent": "mkbundle", ...headers },
          ...(body ? { body: Buffer.isBuffer(body) ? body : (body() as never) } : {}),
          dispatcher,
          headersTimeout: stallMs,
          bodyTimeout: stallMs,
          signal: AbortSignal.timeout(Math.max(1, deadline - Date.now())),
        });
        if (res.statusCode >= 500) {
          await res.body.dump().catch(() => {});
          last = `HTTP ${res.statusCode} for ${method} ${url}`;
          continue;
        }
        return { status: res.statusCode, headers: res.headers, body: res.body };
      } catch (e) {
        const code = (e as { code?: string }).code ?? "";
        const text = (e as Error).message ?? "";
        last =
          code === "ECONNREFUSED"
            ? `connection refused (${origin})`
            : /wrong version number|EPROTO/.test(text + code)
              ? `the TLS handshake failed: ${ref.registry} does not speak HTTPS`
              : (e as Error).name === "TimeoutError" || (e as Error).name === "AbortError"
                ? `no answer within ${timeoutMs / 1000} s (${origin})`
                : code === "UND_ERR_HEADERS_TIMEOUT"
                  ? `no answer within ${stallMs / 1000} s of asking (${origin})`
                  : `${(e as Error).message || code} (${origin})`;
        if (/^(?:EPROTO|ERR_SSL|ERR_TLS|UND_ERR_INFO)/.test(code) || /SSL|TLS|certificate/i.test(last)) break;
      }
    }
    throw fail(
      last || "no answer",
      o.plainHttp || !/does not speak HTTPS/.test(last) ? undefined : "a registry without TLS needs --plain-http",
    );
  }

  /** The Authorization for a challenge: Basic with the credentials, or a Bearer token from the realm. */
  async function answer(challengeHeader: string | undefined, scope: string): Promise<string> {
    const c = parseChallenge(challengeHeader);
    const login = creds();
    if (!c) throw fail(`answered 401 without a usable WWW-Authenticate challenge`);
    const basic = login ? `Basic ${Buffer.from(`${login.username}:${login.password}`).toString("base64")}` : undefined;
    if (c.scheme === "basic") {
      if (!basic) throw loginRefused();
      return basic;
    }
    const realm = c.params["realm"];
    let realmUrl: URL;
    try {
      realmUrl = new URL(realm ?? "");
    } catch {
      throw fail(`sent a Bearer challenge without a usable realm ('${printable(realm ?? "", 80)}')`);
    }
    const realmText = printable(realmUrl.href.split("?")[0]!, 120);
    if (realmUrl.protocol !== "https:" && !(realmUrl.protocol === "http:" && o.plainHttp))
      throw fail(`its token realm ${realmText} is not HTTPS`, "with --plain-http, an http:// realm is accepted");
    // The login goes to the registry's own token service, or to one named in
    // MKBUNDLE_REGISTRY_TOKEN_HOSTS; never in clear text to another host.
    const sameOrigin = realmUrl.origin === origin;
    const allowed = (o.tokenHosts ?? []).some((h) => sameRegistry(h, realmUrl.host));
    if (basic && !sameOrigin && realmUrl.protocol === "http:")
      throw fail(
        `its token realm ${realmText} is plain HTTP on another host: the login is not sent there`,
        "a login crosses plain HTTP only to the registry itself",
      );
    const sendLogin = basic && (sameOrigin || allowed);
    if (c.params["service"]) realmUrl.searchParams.set("service", c.params["service"]);
    realmUrl.searchParams.set("scope", c.params["scope"] ?? scope);
    const res = await raw("GET", realmUrl.toString(), sendLogin ? { authorization: basic } : {});
    const text = await bodyText(res.body, MAX_TOKEN_RESPONSE);
    if ((res.status === 401 || res.status === 403) && basic && !sendLogin)
      throw fail(
        `its token service ${realmText} wants a login, and it is on another host (${realmUrl.host})`,
        `set MKBUNDLE_REGISTRY_TOKEN_HOSTS=${realmUrl.host} to send the login for ${ref.registry} there`,
      );
    if (res.status === 401 || res.status === 403) throw loginRefused();
    if (res.status !== 200) throw fail(`its token service answered HTTP ${res.status}`);
    let token: unknown;
    try {
      const json = JSON.parse(text) as { token?: unknown; access_token?: unknown };
      token = json.token ?? json.access_token;
    } catch {
      // handled below
    }
    if (typeof token !== "string" || !token) throw fail("its token service sent no token");
    return `Bearer ${token}`;
  }

  const loginRefused = () => {
    const login = creds();
    return login
      ? fail(`refused the login of user '${login.username}' (from ${login.from})`, "check the user name and password")
      : fail(
          "asks for a login and none is set",
          "set MKBUNDLE_REGISTRY_USERNAME and MKBUNDLE_REGISTRY_PASSWORD, or log in with docker/podman/skopeo login",
        );
  };

  /** A request, authenticated as the registry asks: one challenge answered, then a second 401 is a refused login. */
  async function send(
    method: Dispatcher.HttpMethod,
    url: string,
    push: boolean,
    headers: Record<string, string> = {},
    body?: Body,
  ): Promise<Sent> {
    const withAuth = () => (authorization ? { ...headers, authorization } : headers);
    let res = await raw(method, url, withAuth(), body);
    if (res.status !== 401) return res;
    await res.body.dump().catch(() => {});
    authorization = await answer(
      header(res.headers, "www-authenticate"),
      `repository:${ref.repository}:${push ? "pull,push" : "pull"}`,
    );
    res = await raw(method, url, withAuth(), body);
    if (res.status === 401) {
      await res.body.dump().catch(() => {});
      throw loginRefused();
    }
    return res;
  }

  const unexpected = async (res: Sent, what: string): Promise<RegistryError> => {
    const text = await readBounded(res.body, 64 * 1024).catch(() => "");
    const code = /"code"\s*:\s*"([A-Z_]+)"/.exec(text)?.[1];
    return res.status === 403
      ? fail(
          `denied ${what} (HTTP 403${code ? ` ${code}` : ""})`,
          "the login may lack push or pull rights on this repository",
        )
      : fail(`${what}: HTTP ${res.status}${code ? ` ${code}` : ""}`);
  };

  /** A bounded answer body; one that stalls, outlasts the deadline or breaks off is a fetch error. */
  const bodyText = (body: Sent["body"], max: number, encoding?: BufferEncoding): Promise<string> =>
    readBounded(body, max, encoding).catch((e: unknown) => {
      if (e instanceof MkError) throw e;
      const n = (e as Error).name;
      throw fail(
        n === "TimeoutError" || n === "AbortError" || (e as { code?: string }).code === "UND_ERR_BODY_TIMEOUT"
          ? `its answer did not arrive whole within ${timeoutMs / 1000} s (${origin})`
          : `its answer broke off: ${(e as Error).message} (${origin})`,
        "--download-timeout bounds each request",
      );
    });

  return {
    ref,
    origin,
    async hasBlob(digest) {
      const res = await send("HEAD", `${repo}/blobs/${digest}`, false);
      await res.body.dump().catch(() => {});
      if (res.status === 200) return true;
      if (res.status === 404) return false;
      throw await unexpected(res, `HEAD blob ${digest}`);
    },

    async fetchBlob(digest, file, maxBytes) {
      // The HEAD answers the registry's challenge; the GET is the mirror's download (retries,
      // resume, stall timeouts, the size bound), sent with the same Authorization.
      if (!(await this.hasBlob(digest)))
        throw new RegistryError("lookup", problem("", `registry ${name}: it has no blob ${digest}`));
      const got = await download({ kind: "http", url: `${repo}/blobs/${digest}` }, file, {
        timeoutMs,
        retries,
        backoffMs: 250,
        maxBytes,
        dispatcher,
        ...(authorization ? { headers: { authorization } } : {}),
      });
      if (got.status !== "ok") throw fail(`blob ${digest} disappeared while it was fetched`);
      if (`sha256:${got.sha256}` !== digest)
        throw new RegistryError(
          "verify",
          problem("", `registry ${name}: blob ${digest} has the wrong bytes (they hash to sha256:${got.sha256})`),
        );
      return got.size;
    },

    async pushBlob(digest, data, size, mountFrom) {
      if (await this.hasBlob(digest)) return "exists";
      const mount =
        mountFrom && mountFrom !== ref.repository ? `?mount=${digest}&from=${encodeURIComponent(mountFrom)}` : "";
      const start = await send("POST", `${repo}/blobs/uploads/${mount}`, true, { "content-length": "0" });
      await start.body.dump().catch(() => {});
      if (start.status === 201 && mount) return "mounted";
      if (start.status !== 202) throw await unexpected(start, `starting an upload of ${digest}`);
      const uploadAt = (res: Sent): URL => {
        const location = header(res.headers, "location");
        if (!location) throw fail("answered an upload without a Location");
        const target = new URL(location, origin);
        if (target.origin !== origin) throw fail(`sent the upload to another host (${target.origin})`);
        return target;
      };
      let target = uploadAt(start);
      const part = (from: number, to: number): Body =>
        Buffer.isBuffer(data) || from >= to
          ? Buffer.isBuffer(data)
            ? data.subarray(from, to)
            : Buffer.alloc(0)
          : () => createReadStream(data, { start: from, end: to - 1 });
      // Large blobs go in chunks (PATCH with Content-Range), as registries with request size limits need.
      let sent = 0;
      if (size > chunkBytes) {
        for (; sent < size;) {
          const end = Math.min(size, sent + chunkBytes);
          const patch = await send(
            "PATCH",
            target.toString(),
            true,
            {
              "content-type": "application/octet-stream",
              "content-range": `${sent}-${end - 1}`,
              "content-length": String(end - sent),
            },
            part(sent, end),
          );
          await patch.body.dump().catch(() => {});
          if (patch.status !== 202) throw await unexpected(patch, `uploading ${digest} (bytes ${sent}-${end - 1})`);
          target = uploadAt(patch);
          sent = end;
        }
      }
      target.searchParams.set("digest", digest);
      const put = await send(
        "PUT",
        target.toString(),
        true,
        { "content-type": "application/octet-stream", "content-length": String(size - sent) },
        part(sent, size),
      );
      await put.body.dump().catch(() => {});
      if (put.status !== 201) throw await unexpected(put, `uploading ${digest}`);
      return "uploaded";
    },

    async putManifest(reference, body, mediaType = OCI_MANIFEST) {
      const res = await send("PUT", `${repo}/manifests/${reference}`, true, { "content-type": mediaType }, body);
      await res.body.dump().catch(() => {});
      if (res.status !== 201)
        throw await unexpected(res, `PUT manifest ${formatReference({ ...ref, tag: reference })}`);
      return {
        digest: `sha256:${createHash("sha256").update(body).digest("hex")}`,
        ociSubject: header(res.headers, "oci-subject") !== undefined,
      };
    },

    async getManifest(reference, accept = OCI_MANIFEST) {
      const res = await send("GET", `${repo}/manifests/${reference}`, false, { accept });
      if (res.status === 404) {
        await res.body.dump().catch(() => {});
        throw new RegistryError("lookup", problem("", `registry ${name}: ${formatReference(ref)} does not exist`));
      }
      if (res.status !== 200) throw await unexpected(res, `GET manifest ${reference}`);
      const body = Buffer.from(await bodyText(res.body, MAX_MANIFEST, "latin1"), "latin1");
      return {
        body,
        mediaType: (header(res.headers, "content-type") ?? "").split(";")[0]!.trim(),
        digest: `sha256:${createHash("sha256").update(body).digest("hex")}`,
      };
    },

    async referrers(digest) {
      const res = await send("GET", `${repo}/referrers/${digest}`, false, { accept: OCI_INDEX });
      if (res.status === 404 || res.status === 405) {
        await res.body.dump().catch(() => {});
        return undefined;
      }
      if (res.status !== 200) throw await unexpected(res, `GET referrers of ${digest}`);
      return Buffer.from(await bodyText(res.body, MAX_MANIFEST, "latin1"), "latin1");
    },
  };
}

async function readBounded(
  body: Dispatcher.ResponseData["body"],
  max: number,
  encoding: BufferEncoding = "utf8",
): Promise<string> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > max) {
      body.destroy();
      throw new RegistryError("format", `a registry answer is larger than ${max} bytes`);
    }
    parts.push(chunk as Buffer);
  }
  return Buffer.concat(parts).toString(encoding);
}
