// rebuild-iso (Razor's rebuild_iso.sh): a bundle -> the chosen outputs (ISO, PXE files, ...)
// and SHA256SUMS. Every output path is checked to stay inside --out.
import { ensureDir } from "../io/ensure-dir.js";
import { existsSync, readFileSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import type { BundleJson } from "../bundle/bundle.js";
import { MkError } from "../errors.js";
import { writeIfChanged } from "../io/write-atomic.js";
import { SUMS_FILE } from "../outdir/names.js";
import type { OutputFile, OutputMaker, WriteOutput } from "./output.js";
import { defaultFormats, OUTPUTS } from "./outputs.js";
import { prepareRemaster, type RemasterOptions } from "./prepare.js";

export interface RebuildOptions extends RemasterOptions {
  /** Names in the outputs table; default: every one that applies (defaultFormats). */
  formats?: readonly string[];
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
  try {
    for (const format of formats) made.push({ format, files: await outputs[format]!(p, write) });
  } finally {
    p.base.close();
  }
  await updateSums(
    o.out,
    made.flatMap((m) => m.files),
    write,
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
  };
}

/** SHA256SUMS in --out: our files' lines replaced, other builds' kept, sorted. */
async function updateSums(out: string, files: OutputFile[], write: WriteOutput): Promise<void> {
  const path = join(out, SUMS_FILE);
  const lines = new Map<string, string>();
  if (existsSync(path)) {
    for (const l of readFileSync(path, "utf8").split("\n")) {
      const m = /^([0-9a-f]{64}) {2}(.+)$/.exec(l);
      if (m) lines.set(m[2]!, m[1]!);
    }
  }
  for (const f of files) lines.set(relative(out, f.path), f.sha256);
  const text = [...lines]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([p, s]) => `${s}  ${p}\n`)
    .join("");
  await write(path, [Buffer.from(text)]);
}
