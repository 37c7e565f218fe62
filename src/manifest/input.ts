// A manifest ready for the pipeline: validated, resolved, and where it came from (its file,
// the directory its relative paths start from, positions for messages, the environment).
import { hasErrors, MkError, type Diagnostic } from "../errors.js";
import type { Env } from "./epoch.js";
import { loadManifestFile } from "./load.js";
import { resolveManifest } from "./resolve.js";
import type { Locator } from "./schema.js";
import type { Manifest, ResolvedManifest } from "./types.js";

export interface ManifestInput {
  /** As written (schema-valid). */
  written: Manifest;
  /** Defaults, flavour and environment applied: what is built. */
  manifest: ResolvedManifest;
  /** The manifest file; undefined for Razor's flags (there is none, and no lock file either). */
  file?: string;
  /** `source:`, `password.file` and a relative `mirror:` are taken from here. */
  dir: string;
  /** Where a key path sits in the input, for messages that name FILE:LINE:COL. */
  locate: Locator;
  /** What the build reads: SOURCE_DATE_EPOCH, password variables, MK_BUNDLE_* settings. */
  env: Env;
  /** Warnings found while loading. */
  warnings: Diagnostic[];
}

/** Loads, validates and resolves a manifest file; any error is an MkError (exit 2) listing every problem. */
export function manifestFromFile(file: string, opts: { mirror?: string; env: Env }): ManifestInput {
  const loaded = loadManifestFile(file);
  if (hasErrors(loaded.diagnostics) || !loaded.manifest || !loaded.locate)
    throw new MkError("manifest", loaded.diagnostics);
  return {
    written: loaded.manifest,
    manifest: resolveManifest(loaded.manifest, { ...(opts.mirror ? { mirror: opts.mirror } : {}), env: opts.env }),
    file,
    dir: loaded.baseDir,
    locate: loaded.locate,
    env: opts.env,
    warnings: loaded.diagnostics,
  };
}
