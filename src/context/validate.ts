// `mkbundle validate`: every problem of a manifest file, and what a build would meet that
// needs no network (a version, the password's variable set); with strict, warnings count.
import type { Env } from "../config/environment.js";
import { byPosition, type Diagnostic } from "../errors.js";
import { loadManifestFile } from "../manifest/load.js";
import { buildReadiness } from "../manifest/readiness.js";

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
