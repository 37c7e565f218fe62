// What resolving and fetching need, built from the configuration: the verified store under
// --work-dir, download options, the mirror, the shared cache registry, limits, and where the
// manifest lists each extension (for messages at its line).
import type { Config } from "../config/config.js";
import { MkError } from "../errors.js";
import type { Log } from "../log.js";
import type { ResolveContext } from "../lock/context.js";
import type { ManifestInput } from "../manifest/input.js";
import type { Locator } from "../manifest/schema.js";
import { extensionName, type Manifest } from "../manifest/types.js";
import { proxyDispatcher } from "../net/download.js";
import { limiter } from "../net/limit.js";
import { mirrorLocation } from "../net/location.js";
import { formatReference, isLoopback, parseReference, type Reference } from "../registry/reference.js";
import type { ClientOptions } from "../registry/client.js";
import { authFiles, type CredentialSources } from "../registry/credentials.js";
import { openStore } from "../store/cas.js";
import { makeProgress } from "../store/progress.js";
import type { BlobCache } from "../store/registry-cache.js";
import type { Env } from "../config/environment.js";

export interface Verbosity {
  quiet?: boolean;
  verbose?: boolean;
  /** Where download progress goes (standard error). */
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
}

/** The connection pool for this configuration's proxies. */
const dispatcherOf = ({ values: v }: Config) =>
  proxyDispatcher({ httpProxy: v.httpProxy, httpsProxy: v.httpsProxy, noProxy: v.noProxy });

/**
 * Where registry logins come from: MKBUNDLE_REGISTRY_USERNAME/PASSWORD (for
 * MKBUNDLE_REGISTRY_HOST, else for `registry`, the one the command names), then the auth files
 * (each entry for its own host).
 */
export function credentialSources(config: Config, env: Env, registry: string): CredentialSources {
  const { registryUsername: username, registryPassword: password, registryHost } = config.values;
  return {
    ...(username && password !== undefined ? { login: { username, password, host: registryHost ?? registry } } : {}),
    authFiles: authFiles({
      REGISTRY_AUTH_FILE: env["REGISTRY_AUTH_FILE"],
      XDG_RUNTIME_DIR: env["XDG_RUNTIME_DIR"],
      DOCKER_CONFIG: env["DOCKER_CONFIG"],
      HOME: env["HOME"],
    }),
  };
}

/** The registry client's options for `ref`; a warning when logins would cross the network unencrypted. */
export function registryOptions(config: Config, env: Env, ref: Reference, log: Log): ClientOptions {
  const plainHttp = config.values.plainHttp;
  if (plainHttp && !isLoopback(ref.registry))
    log.warn(`--plain-http: ${ref.registry} is not on this machine; logins and images cross the network unencrypted`);
  return {
    plainHttp,
    credentials: credentialSources(config, env, ref.registry),
    tokenHosts: config.values.registryTokenHosts,
    timeoutMs: config.values.downloadTimeout * 1000,
    dispatcher: dispatcherOf(config),
  };
}

/** How long the cache registry may take to start answering before the build goes on without it. */
const CACHE_STALL_MS = 5_000;

function sharedCache(config: Config, env: Env, log: Log): BlobCache | undefined {
  const given = config.values.cacheRegistry;
  if (!given || config.values.offline) return undefined;
  const from = config.sources.cacheRegistry.name;
  const ref = parseReference(given, from);
  if (ref.tag || ref.digest) throw new MkError("usage", `${from} ${given}: name a repository, without a tag or digest`);
  const options = registryOptions(config, env, ref, log);
  // The registry client is loaded when the first download asks for it, not for every command.
  let cache: Promise<BlobCache> | undefined;
  const load = () =>
    (cache ??= import("../store/registry-cache.js").then((m) =>
      // A cache that accepts and then says nothing costs seconds, once: it is given up on.
      m.registryBlobCache(ref, { ...options, stallMs: CACHE_STALL_MS, retries: 0 }, (message) => log.warn(message)),
    ));
  return {
    name: formatReference(ref),
    get: async (sha256, file, maxBytes) => (await load()).get(sha256, file, maxBytes),
    put: async (sha256, path, size) => (await load()).put(sha256, path, size),
  };
}

/** Where a manifest (or Razor's lists) names an extension: in a list, or a files[].extract. */
function whereListedIn(written: Manifest, locate: Locator): NonNullable<ResolveContext["whereListed"]> {
  return (list, name) => {
    if (list === "extensions.builtin" || list === "extensions.mirror") {
      const role = list === "extensions.builtin" ? "builtin" : "mirror";
      const i = (written.extensions?.[role] ?? []).findIndex((n) => extensionName(n) === name);
      return i >= 0 ? locate(["extensions", role, i]) : undefined;
    }
    if (list === "extensions.local") {
      const i = (written.extensions?.local ?? []).findIndex(
        (l) => extensionName("from" in l ? l.name : (l.name ?? l.file.split("/").pop()!)) === name,
      );
      return i >= 0 ? locate(["extensions", "local", i]) : undefined;
    }
    const i = (written.files ?? []).findIndex((f) => "extract" in f && extensionName(f.extract.extension) === name);
    return i >= 0 ? locate(["files", i, "extract", "extension"]) : undefined;
  };
}

/** Where the mirror value came from, for the message when it is unusable. */
function mirrorOrigin(config: Config, input: Pick<ManifestInput, "file">): string {
  const s = config.sources.mirror;
  if (s.kind === "manifest" && input.file) return `the mirror: of ${input.file}`;
  return s.kind === "default" ? "the mirror" : s.name;
}

export function resolveContext(
  config: Config,
  env: Env,
  input: Pick<ManifestInput, "dir" | "written" | "locate" | "file">,
  log: Log,
  verbosity: Verbosity,
): ResolveContext {
  const v = config.values;
  const shared = sharedCache(config, env, log);
  return {
    fetch: {
      store: openStore(v.workDir),
      offline: v.offline,
      progress: makeProgress(verbosity),
      limit: limiter(v.jobs),
      download: { timeoutMs: v.downloadTimeout * 1000, retries: 4, backoffMs: 250, dispatcher: dispatcherOf(config) },
      warn: (m) => log.warn(m),
      ...(shared ? { shared } : {}),
    },
    // A relative --mirror is taken from the working directory, a relative mirror: from the manifest's.
    mirror: mirrorLocation(
      v.mirror,
      config.sources.mirror.kind === "cli" ? process.cwd() : input.dir,
      mirrorOrigin(config, input),
      { mustExist: !v.offline },
    ),
    baseDir: input.dir,
    log,
    limits: config.limits,
    whereListed: whereListedIn(input.written, input.locate),
    whereKey: (path) => (input.file ? input.locate(path) : undefined),
  };
}

/** Runs a stage with downloads; the progress display is finished however it ends. */
export async function withProgress<T>(ctx: ResolveContext, stage: () => Promise<T>): Promise<T> {
  try {
    return await stage();
  } finally {
    ctx.fetch.progress.finish();
  }
}
