// What commands that resolve and fetch share: the context, and turning failures into exit 1.
import { fileError, UserError } from "../manifest/diagnostic.js";
import type { ResolvedManifest } from "../manifest/types.js";
import { ResolveError } from "../lock/errors.js";
import type { ResolveContext } from "../lock/resolve.js";
import { BuildError } from "../overlay/types.js";
import { locationOf } from "../store/location.js";
import { fetchContext, type FetchOptions } from "./fetch-options.js";
import type { GlobalOptions, Log } from "./output.js";

export function resolveContext(opts: FetchOptions & GlobalOptions, manifest: ResolvedManifest, baseDir: string, log: Log): ResolveContext {
  return {
    fetch: fetchContext(opts),
    // A relative --mirror is taken from the working directory, a relative mirror: from the manifest's.
    mirror: locationOf(manifest.mirror, opts.mirror ? process.cwd() : baseDir),
    baseDir,
    warn: (m) => log.warn(m),
  };
}

/** Runs a stage; resolution and build problems become one line each under `label`, exit 1. */
export async function withResolveErrors<T>(label: string, ctx: ResolveContext, stage: () => Promise<T>): Promise<T> {
  try {
    return await stage();
  } catch (e) {
    if (e instanceof ResolveError || e instanceof BuildError) throw new UserError(e.problems.map((p) => fileError(label, p)), 1);
    throw e;
  } finally {
    ctx.fetch.progress.finish();
  }
}
