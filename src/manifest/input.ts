// A manifest ready for the pipeline: validated, resolved with the configuration's settings,
// and where it came from (its file, the directory its relative paths start from, positions
// for messages).
import { hasErrors, MkError, type Diagnostic } from "../errors.js";
import { loadManifestFile } from "./load.js";
import { resolveManifest, type ManifestSettings } from "./resolve.js";
import type { Locator } from "./schema.js";
import type { Manifest, ResolvedManifest } from "./types.js";

export interface LoadedManifest {
  /** As written (schema-valid). */
  written: Manifest;
  /** The manifest file; undefined for Razor's flags (there is none, and no lock file either). */
  file?: string;
  /** `source:`, `password.file` and a relative `mirror:` are taken from here. */
  dir: string;
  /** Where a key path sits in the input, for messages that name FILE:LINE:COL. */
  locate: Locator;
  /** Warnings found while loading. */
  warnings: Diagnostic[];
}

export interface ManifestInput extends LoadedManifest {
  /** Defaults, flavour and settings applied: what is built. */
  manifest: ResolvedManifest;
}

/** Loads and validates a manifest file; any error is an MkError (exit 2) listing every problem. */
export function loadManifest(file: string): LoadedManifest {
  const loaded = loadManifestFile(file);
  if (hasErrors(loaded.diagnostics) || !loaded.manifest || !loaded.locate)
    throw new MkError("manifest", loaded.diagnostics);
  return { written: loaded.manifest, file, dir: loaded.baseDir, locate: loaded.locate, warnings: loaded.diagnostics };
}

export const resolvedInput = (loaded: LoadedManifest, settings: ManifestSettings): ManifestInput => ({
  ...loaded,
  manifest: resolveManifest(loaded.written, settings),
});
