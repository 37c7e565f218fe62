// Shared by commands that take a manifest: load, report, stop with exit 2 on errors.
import { hasErrors, UserError } from "../manifest/diagnostic.js";
import { loadManifestFile } from "../manifest/load.js";
import { resolveManifest } from "../manifest/resolve.js";
import type { ResolvedManifest } from "../manifest/types.js";
import type { GlobalOptions, Log } from "./output.js";

export function loadResolved(file: string, globals: GlobalOptions, log: Log): ResolvedManifest {
  return loadResolvedWithDir(file, globals, log).manifest;
}

/** The resolved manifest and its directory (relative sources and mirrors are taken from it). */
export function loadResolvedWithDir(file: string, globals: GlobalOptions, log: Log): { manifest: ResolvedManifest; baseDir: string } {
  const loaded = loadManifestFile(file);
  if (hasErrors(loaded.diagnostics) || !loaded.manifest) throw new UserError(loaded.diagnostics);
  log.diagnostics(loaded.diagnostics);
  return { manifest: resolveManifest(loaded.manifest, { ...(globals.mirror ? { mirror: globals.mirror } : {}), env: process.env }), baseDir: loaded.baseDir };
}
