// `mkbundle build`: lock + bundle + rebuild-iso, each stage skipped when its inputs are
// unchanged. The ISO stage's named inputs are the bundle's sha256, the version, the options,
// SOURCE_DATE_EPOCH (its build time) and mkbundle's code; its record keeps every output file.
import { existsSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { bundleStage, type BundleResult, type BundleStageOptions } from "../bundle/stage.js";
import { MkError } from "../errors.js";
import { updateSums } from "../outdir/sums.js";
import { stampOf, stillStamped, type FileStamp } from "../io/file-stamp.js";
import { hashFile } from "../io/hash.js";
import { codeIdentity } from "../io/package-version.js";
import type { ResolveContext } from "../lock/context.js";
import { isoFileName } from "../outdir/names.js";
import { digestOf, stageCache, type StageInputs } from "../outdir/stage-cache.js";
import type { OutputFile } from "../remaster/output.js";
import type { RebuildResult } from "../remaster/rebuild.js";
import type { BuiltinMode } from "../remaster/unpack-builtin.js";
import { layerCacheOf } from "../store/cas.js";
import { signingIdentity, type SigningFiles } from "../remaster/secure-boot.js";

export interface BuildOptions extends BundleStageOptions {
  version?: string;
  appendInitrd?: boolean;
  builtin: BuiltinMode;
  formats?: readonly string[];
  /** Replace a data partition that holds other bytes. */
  force?: boolean;
  /** SOURCE_DATE_EPOCH, when set: the ISO's recorded build time. */
  buildTime?: number | undefined;
  /** boot.uefi.sign's files, resolved against the manifest's directory. */
  signing?: SigningFiles;
}

export interface BuildResult {
  bundle: BundleResult;
  iso: OutputFile & { rebuilt: boolean; why: string };
  /** Every output file of the remaster (when it ran). */
  outputs?: RebuildResult["outputs"];
  builtin?: RebuildResult["builtin"];
  layers?: RebuildResult["layers"];
  /** budget: what it bounds, measured (when the ISO was rebuilt). */
  budget?: RebuildResult["budget"];
}

/** What the stage cache keeps of an ISO stage's run: the ISO's stamp and every output (paths relative to --out). */
interface IsoOutputs {
  iso: FileStamp & { path: string };
  outputs: RebuildResult["outputs"];
}

const SAY: Record<string, string> = {
  bundle: "the bundle changed",
  mkbundle: "mkbundle changed",
};

export async function buildStage(o: BuildOptions, ctx: ResolveContext): Promise<BuildResult> {
  const { manifest } = o.input;
  const version = o.version ?? manifest.version;
  if (!version)
    throw new MkError("usage", "no version for the ISO's name", {
      file: o.input.file ?? "mkbundle",
      hint: `pass one, as in mkbundle build ${o.input.file ?? "MANIFEST"} 1.0.0, or set version: in the manifest`,
    });
  const bundle = await bundleStage(o, ctx);
  const isoName = isoFileName(manifest.name, manifest.flavour, version);
  const iso = join(o.out, isoName);
  const inputs: StageInputs = {
    bundle: bundle.bundle.sha256,
    version,
    options: digestOf([!!o.appendInitrd, o.builtin, o.formats ?? null, o.signing ? signingIdentity(o.signing) : null]),
    buildTime: String(o.buildTime ?? "none"),
    mkbundle: codeIdentity(),
  };
  const cache = stageCache(o.out);
  const stage = `iso ${isoName}`;
  // --force asks for a fresh data partition: the outputs are written again, whatever the cache says.
  const hit = o.force ? undefined : cache.lookup<IsoOutputs>(stage, inputs);
  // The ISO is trusted unchanged while its stamp (size, mtime, inode) holds; else it is re-hashed.
  if (hit && (stillStamped(iso, hit.iso) || (existsSync(iso) && (await hashFile(iso)).sha256 === hit.iso.sha256))) {
    const unchanged = (f: OutputFile) => ({ ...f, path: join(o.out, f.path), written: false });
    const outputs = hit.outputs.map((x) => ({ ...x, files: x.files.map(unchanged) }));
    // Unchanged, but its lines in SHA256SUMS are put back if another writer lost them.
    await updateSums(
      o.out,
      outputs.flatMap((x) => x.files),
    );
    return {
      bundle,
      iso: {
        path: iso,
        sha256: hit.iso.sha256,
        size: statSync(iso).size,
        written: false,
        rebuilt: false,
        why: "same bundle, version and options",
      },
      outputs,
    };
  }
  const why = cache.why(stage, inputs, (n) => SAY[n] ?? "the version or options changed");
  const { rebuildIso } = await import("../remaster/rebuild.js"); // not loaded when nothing changed
  const r = await rebuildIso({
    bundle: bundle.bundle.path,
    version,
    ...(o.appendInitrd ? { appendInitrd: true } : {}),
    builtin: o.builtin,
    out: o.out,
    buildTime: o.buildTime,
    limits: ctx.limits,
    layerCache: layerCacheOf(ctx.fetch.store),
    ...(o.formats ? { formats: o.formats } : {}),
    ...(o.force ? { force: true } : {}),
    ...(o.signing ? { signing: o.signing } : {}),
  });
  if (!r.iso) throw new MkError("usage", "build makes an ISO: --format must include iso");
  const rel = (f: OutputFile) => ({ ...f, path: relative(o.out, f.path) });
  await cache.record(stage, inputs, {
    iso: { ...stampOf(r.iso.path, r.iso.sha256), path: isoName },
    outputs: r.outputs.map((x) => ({ ...x, files: x.files.map(rel) })),
  } satisfies IsoOutputs);
  return {
    bundle,
    iso: { ...r.iso, rebuilt: true, why },
    outputs: r.outputs,
    builtin: r.builtin,
    ...(r.layers ? { layers: r.layers } : {}),
    budget: r.budget,
  };
}
