// Manifest file -> validated Manifest, or every problem at once.
import { dirname, resolve } from "node:path";
import { readTextFile } from "./text-file.js";
import { byPosition, capDiagnostics, hasErrors, type Diagnostic } from "../errors.js";
import { validateAgainstSchema, type Locator } from "./schema.js";
import { semanticChecks } from "./semantic.js";
import type { Manifest } from "./types.js";
import { parseYaml, positionOf, sourceTextOf } from "./yaml-source.js";

export interface Loaded {
  /** Present only when there are no errors. */
  manifest?: Manifest;
  diagnostics: Diagnostic[];
  baseDir: string;
  /** Positions of key paths in the input (present when it parsed). */
  locate?: Locator;
}

export function loadManifestFile(file: string): Loaded {
  const baseDir = dirname(resolve(file));
  const read = readTextFile(file, "manifest");
  if (read.problem) return { diagnostics: [read.problem], baseDir };
  return loadManifestText(file, read.text);
}

export function loadManifestText(file: string, text: string): Loaded {
  const baseDir = dirname(resolve(file));
  const { source, diagnostics } = parseYaml(file, text);
  if (hasErrors(diagnostics)) return { diagnostics: capDiagnostics(diagnostics.sort(byPosition), file), baseDir };
  const locate: Locator = (path, at) => ({ file, ...positionOf(source, path, at) });
  const checked = checkManifestData(
    source.data,
    { locate, baseDir, sourceText: (p) => sourceTextOf(source, p) },
    diagnostics,
  );
  return { ...checked, diagnostics: capDiagnostics(checked.diagnostics, file), locate };
}

/** Schema then semantic checks, for data from a YAML file or built from Razor's flags. */
export function checkManifestData(
  data: unknown,
  ctx: { locate: Locator; baseDir: string; sourceText?: (p: readonly (string | number)[]) => string | undefined },
  earlier: Diagnostic[] = [],
): Loaded {
  if (data === null || data === undefined) {
    const at = ctx.locate([]);
    return {
      diagnostics: [
        ...earlier,
        { severity: "error", ...at, path: "", message: "the manifest is empty", hint: "start from `mkbundle init`" },
      ],
      baseDir: ctx.baseDir,
    };
  }
  const diagnostics = [...earlier, ...validateAgainstSchema("manifest", data, ctx), ...semanticChecks(data, ctx)].sort(
    byPosition,
  );
  return hasErrors(diagnostics)
    ? { diagnostics, baseDir: ctx.baseDir }
    : { manifest: data as Manifest, diagnostics, baseDir: ctx.baseDir };
}
