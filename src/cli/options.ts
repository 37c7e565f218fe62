// Options shared by commands, their parsers, and the contexts they build.
import { InvalidArgumentError, Option, type Command } from "commander";
import type { ResolveContext } from "../lock/context.js";
import type { ManifestInput } from "../manifest/input.js";
import { manifestFromFile } from "../manifest/input.js";
import type { Log } from "../log.js";
import { openStore } from "../store/cas.js";
import type { BlobCache } from "../store/registry-cache.js";
import { formatReference, isLoopback, parseReference, type Reference } from "../registry/reference.js";
import { MkError } from "../errors.js";
import { limiter } from "../net/limit.js";
import { mirrorLocation } from "../net/location.js";
import { makeProgress } from "../store/progress.js";
import type { GlobalOptions } from "./output.js";
import { extensionName, type Manifest } from "../manifest/types.js";
import type { Locator } from "../manifest/schema.js";

export interface FetchOptions {
  offline?: boolean;
  jobs: number;
  downloadTimeout: number;
  cacheRegistry?: string;
  plainHttp?: boolean;
}

/** Every command takes these, before or after its own arguments. */
export function addGlobalOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option(
        "--mirror <url|dir>",
        "Tiny Core mirror: http(s) URL, file:// URL or local directory (beats the manifest's mirror:)",
      ),
    )
    .addOption(new Option("--work-dir <dir>", "work directory and download cache").default("tmp-build-dir"))
    .addOption(new Option("--out <dir>", "output directory").default("build-files"))
    .addOption(new Option("-q, --quiet", "print only errors and results").conflicts("verbose"))
    .addOption(new Option("-v, --verbose", "print more about each step"));
}

export const wholeNumber =
  (name: string, min = 1) =>
  (v: string) => {
    const n = Number(v);
    if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < min)
      throw new InvalidArgumentError(`${name} must be a whole number of at least ${min}`);
    return n;
  };

export function addFetchOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option("--offline", "use only the download cache; fail naming every file it lacks"))
    .addOption(new Option("-j, --jobs <n>", "parallel downloads").default(4).argParser(wholeNumber("--jobs")))
    .addOption(
      new Option("--download-timeout <seconds>", "the longest one download may take, retries included")
        .default(600)
        .argParser(wholeNumber("--download-timeout")),
    )
    .addOption(
      new Option(
        "--cache-registry <ref>",
        "share the download cache through an OCI registry repository, e.g. registry.example:5000/mkbundle/cache (env MKBUNDLE_CACHE_REGISTRY)",
      ),
    )
    .addOption(registryPlainHttpOption());
}

/** Registries speak HTTPS; a loopback test registry may not. */
export const registryPlainHttpOption = () =>
  new Option(
    "--plain-http",
    "talk to the registry over plain HTTP (a local test registry; env MKBUNDLE_REGISTRY_PLAIN_HTTP=1)",
  );

/** The registry client's options from the command line and the environment. */
export function registryOptions(opts: { plainHttp?: boolean; downloadTimeout?: number }, ref: Reference, log: Log) {
  const plainHttp = opts.plainHttp === true || process.env["MKBUNDLE_REGISTRY_PLAIN_HTTP"] === "1";
  if (plainHttp && !isLoopback(ref.registry))
    log.warn(`--plain-http: ${ref.registry} is not on this machine; logins and images cross the network unencrypted`);
  return {
    plainHttp,
    env: process.env,
    ...(opts.downloadTimeout ? { timeoutMs: opts.downloadTimeout * 1000 } : {}),
  };
}

function sharedCache(opts: FetchOptions, log: Log): BlobCache | undefined {
  const given = opts.cacheRegistry ?? process.env["MKBUNDLE_CACHE_REGISTRY"];
  if (!given || opts.offline) return undefined;
  const ref = parseReference(given, opts.cacheRegistry ? "--cache-registry" : "MKBUNDLE_CACHE_REGISTRY");
  if (ref.tag || ref.digest)
    throw new MkError("usage", `--cache-registry ${given}: name a repository, without a tag or digest`);
  const options = registryOptions(opts, ref, log);
  // The registry client is loaded when the first download asks for it, not for every command.
  let cache: Promise<BlobCache> | undefined;
  const load = () =>
    (cache ??= import("../store/registry-cache.js").then((m) =>
      m.registryBlobCache(ref, options, (message) => log.warn(message)),
    ));
  return {
    name: formatReference(ref),
    get: async (sha256, file, maxBytes) => (await load()).get(sha256, file, maxBytes),
    put: async (sha256, path, size) => (await load()).put(sha256, path, size),
  };
}

/**
 * The command's options merged with its parents', an explicit value winning over a default
 * wherever it was given (commander's optsWithGlobals lets a parent's default win).
 */
export function globalsOf<T = GlobalOptions>(cmd: Command): T & GlobalOptions {
  const chain: Command[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) chain.push(c);
  const out: Record<string, unknown> = {};
  for (const key of new Set(chain.flatMap((c) => Object.keys(c.opts())))) {
    const given = chain.filter((c) => c.opts()[key] !== undefined);
    const pick = given.find((c) => c.getOptionValueSource(key) !== "default") ?? given[0];
    out[key] = pick?.opts()[key];
  }
  return out as T & GlobalOptions;
}

/** The manifest FILE with --mirror and the environment applied; its warnings printed. */
export function loadManifest(file: string, opts: GlobalOptions, log: Log): ManifestInput {
  const input = manifestFromFile(file, { ...(opts.mirror ? { mirror: opts.mirror } : {}), env: process.env });
  log.diagnostics(input.warnings);
  return input;
}

export function resolveContext(
  opts: FetchOptions & GlobalOptions,
  input: Pick<ManifestInput, "manifest" | "dir"> & Partial<Pick<ManifestInput, "written" | "locate" | "file">>,
  log: Log,
): ResolveContext {
  const shared = sharedCache(opts, log);
  return {
    fetch: {
      store: openStore(opts.workDir),
      offline: opts.offline === true,
      progress: makeProgress({ ...(opts.quiet ? { quiet: true } : {}), ...(opts.verbose ? { verbose: true } : {}) }),
      limit: limiter(opts.jobs),
      download: { timeoutMs: opts.downloadTimeout * 1000, retries: 4, backoffMs: 250 },
      warn: (m) => log.warn(m),
      ...(shared ? { shared } : {}),
    },
    // A relative --mirror is taken from the working directory, a relative mirror: from the manifest's.
    mirror: mirrorLocation(input.manifest.mirror, opts.mirror ? process.cwd() : input.dir, mirrorOrigin(opts, input), {
      mustExist: opts.offline !== true,
    }),
    baseDir: input.dir,
    log,
    ...(input.written && input.locate ? { whereListed: whereListedIn(input.written, input.locate) } : {}),
  };
}

/** Where the mirror value came from, for the message when it is unusable. */
function mirrorOrigin(opts: GlobalOptions, input: Partial<Pick<ManifestInput, "written" | "file">>): string {
  if (opts.mirror) return "--mirror";
  if (input.written?.mirror && input.file) return `the mirror: of ${input.file}`;
  return process.env["MK_BUNDLE_TCL_MIRROR_URI"] ? "MK_BUNDLE_TCL_MIRROR_URI" : "the mirror";
}

/** The position of the manifest entry that lists an extension: in a list, or a files[].extract. */
function whereListedIn(written: Manifest, locate: Locator): NonNullable<ResolveContext["whereListed"]> {
  return (list, name) => {
    if (list === "extensions.builtin" || list === "extensions.mirror") {
      const role = list === "extensions.builtin" ? "builtin" : "mirror";
      const i = (written.extensions?.[role] ?? []).findIndex((n) => extensionName(n) === name);
      return i >= 0 ? locate(["extensions", role, i]) : undefined;
    }
    const i = (written.files ?? []).findIndex((f) => "extract" in f && extensionName(f.extract.extension) === name);
    return i >= 0 ? locate(["files", i, "extract", "extension"]) : undefined;
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
