// rebuild-iso (Razor's rebuild_iso.sh): a bundle -> the chosen outputs (ISO, PXE files, ...)
// and SHA256SUMS. Every output path is checked to stay inside --out.
import { ensureDir } from "../io/ensure-dir.js";
import { dirname, isAbsolute, relative, resolve } from "node:path";
import type { BundleJson } from "../bundle/bundle.js";
import { MkError } from "../errors.js";
import { writeIfChanged } from "../io/write-atomic.js";
import type { OutputFile, OutputMaker, WriteOutput } from "./output.js";
import { defaultFormats, OUTPUTS } from "./outputs.js";
import { checkDataKept } from "./outputs/data.js";
import { checkBudget, type Measured } from "./budget.js";
import { updateSums } from "../outdir/sums.js";
import { prepareRemaster, type RemasterOptions } from "./prepare.js";

export interface RebuildOptions extends RemasterOptions {
  /** Names in the outputs table; default: every one that applies (defaultFormats). */
  formats?: readonly string[];
  /** Write even over budget: (mkbundle size of a bundle measures, it does not judge). */
  skipBudget?: boolean;
}

export interface RebuildResult {
  name: string;
  flavour: string;
  version: string;
  json: BundleJson;
  /** The files of each format, in the order asked for. */
  outputs: { format: string; files: OutputFile[] }[];
  iso?: OutputFile;
  initrdPaths: string[];
  builtin: { unpack: boolean; why: string };
  layers?: { count: number; reused: number };
  /** What the manifest's budget: bounds, measured (only what it bounds). */
  budget: Measured;
}

/** A path under `out`, or an error: names from a bundle must never lead outside it. */
export function insideOut(out: string, path: string): string {
  const rel = relative(resolve(out), resolve(path));
  if (rel === "" || rel.startsWith("..") || isAbsolute(rel))
    throw new MkError("input", `refusing to write ${path}: it is outside the output directory ${out}`);
  return path;
}

function outputWriter(out: string): WriteOutput {
  return async (path, data) => {
    insideOut(out, path);
    ensureDir(dirname(path));
    return { path, ...(await writeIfChanged(path, data)) };
  };
}

function checkFormats(formats: readonly string[], outputs: Readonly<Record<string, OutputMaker>> = OUTPUTS): void {
  const unknown = formats.filter((f) => !outputs[f]);
  if (unknown.length)
    throw new MkError("usage", `unknown output format${unknown.length > 1 ? "s" : ""} ${unknown.join(", ")}`, {
      hint: `known: ${Object.keys(outputs).join(", ")}`,
    });
}

export async function rebuildIso(
  o: RebuildOptions,
  outputs: Readonly<Record<string, OutputMaker>> = OUTPUTS,
): Promise<RebuildResult> {
  if (o.formats) checkFormats(o.formats, outputs);
  const p = await prepareRemaster(o);
  const formats = o.formats ?? defaultFormats(p, outputs);
  const write = outputWriter(o.out);
  const made: RebuildResult["outputs"] = [];
  let budget: Measured | undefined;
  try {
    if (!o.skipBudget) budget = await checkBudget(p, formats, o.limits);
    await checkDataKept(p, formats);
    for (const format of formats) made.push({ format, files: await outputs[format]!(p, write) });
  } finally {
    p.base.close();
  }
  await updateSums(
    o.out,
    made.flatMap((m) => m.files),
  );
  const iso = made.find((m) => m.format === "iso")?.files[0];
  return {
    name: p.name,
    flavour: p.flavour,
    version: p.version,
    json: p.bundle.json,
    outputs: made,
    ...(iso ? { iso } : {}),
    initrdPaths: p.initrds.map((i) => i.path),
    builtin: p.builtin,
    ...(p.layers ? { layers: p.layers } : {}),
    budget: budget ?? {},
  };
}
