// Shared by commands that take a manifest: load, report, stop with exit 2 on errors.
import { hasErrors, UserError } from "../manifest/diagnostic.js";
import { loadManifestFile } from "../manifest/load.js";
import { resolveManifest } from "../manifest/resolve.js";
import type { ResolvedManifest } from "../manifest/types.js";
import type { GlobalOptions, Log } from "./output.js";

export function loadResolved(file: string, globals: GlobalOptions, log: Log): ResolvedManifest {
  const loaded = loadManifestFile(file);
  if (hasErrors(loaded.diagnostics) || !loaded.manifest) throw new UserError(loaded.diagnostics);
  log.diagnostics(loaded.diagnostics);
  return resolveManifest(loaded.manifest, { ...(globals.mirror ? { mirror: globals.mirror } : {}), env: process.env });
}
