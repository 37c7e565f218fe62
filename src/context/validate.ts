// `mkbundle validate`: every problem of a manifest file, and what a build would meet that
// needs no network (a version, the password's variable set); with strict, warnings count, and
// a manifest with a lock has the image's checks run on the lock's pins (plan/check-image.ts).
import type { Env } from "../config/environment.js";
import { byPosition, type Diagnostic } from "../errors.js";
import { loadManifestFile } from "../manifest/load.js";
import { buildReadiness } from "../manifest/readiness.js";
import { manifestFileRun, tcPasswordOf } from "./manifest.js";
import { resolveContext, withProgress, type Verbosity } from "./resolve.js";
import type { Session } from "./session.js";

export function validateManifest(file: string, env: Env, strict: boolean): Diagnostic[] {
  const loaded = loadManifestFile(file);
  const ds =
    loaded.manifest && loaded.locate
      ? [
          ...loaded.diagnostics,
          ...buildReadiness(loaded.manifest, { locate: loaded.locate, isSet: (name) => !!env[name] }),
        ].sort(byPosition)
      : loaded.diagnostics;
  return strict ? ds.map((d) => ({ ...d, severity: "error" })) : ds;
}

/** With --strict and a lock beside the manifest: the checks a build runs on the image. */
export async function checkImageOf(s: Session & { verbosity: Verbosity }, file: string): Promise<Diagnostic[]> {
  const run = manifestFileRun(s, file);
  const input = { ...run.input, file };
  const ctx = resolveContext(run.config, s.env, input, s.log, s.verbosity);
  const { checkImage } = await import("../plan/check-image.js");
  const found = await withProgress(ctx, () => checkImage(input, tcPasswordOf(s, input), ctx));
  return (found ?? []).map((d) => ({ ...d, severity: "error" }));
}
