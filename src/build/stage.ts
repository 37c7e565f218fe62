// `mkbundle build`: lock + bundle + rebuild-iso, each stage skipped when its inputs are
// unchanged. The ISO is keyed by the bundle's sha256, the version, the options and
// SOURCE_DATE_EPOCH (its build time); the key and the ISO's sha256 are recorded in --out.
import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { bundleStage, type BundleResult } from "../bundle/stage.js";
import { MkError } from "../errors.js";
import type { ResolveContext } from "../lock/context.js";
import type { ManifestInput } from "../manifest/input.js";
import { isoFileName } from "../remaster/names.js";
import type { OutputFile } from "../remaster/output.js";
import type { RebuildResult } from "../remaster/rebuild.js";
import type { BuiltinMode } from "../remaster/unpack-builtin.js";
import { hashFile } from "../io/hash.js";
import { layerCacheOf } from "../store/cas.js";
import { codeIdentity } from "../io/package-version.js";
import { stampOf, stillStamped, type FileStamp } from "../io/file-stamp.js";
import { writeFileAtomic } from "../io/write-atomic.js";

export interface BuildOptions {
  input: ManifestInput;
  version?: string;
  out: string;
  appendInitrd?: boolean;
  builtin: BuiltinMode;
  frozen?: boolean;
  allowMissingCommands?: boolean;
  formats?: readonly string[];
}

export interface BuildResult {
  bundle: BundleResult;
  iso: OutputFile & { rebuilt: boolean; why: string };
  /** Every output file of the remaster (when it ran). */
  outputs?: RebuildResult["outputs"];
  builtin?: RebuildResult["builtin"];
  layers?: RebuildResult["layers"];
}

const STATE = ".mkbundle-build.json";
/** Per ISO: the key it was built from, its stamp, and every output file of that build. */
type State = Record<string, { key: string; outputs?: RebuildResult["outputs"] } & FileStamp>;

function readState(path: string): State {
  if (!existsSync(path)) return {};
  try {
    return JSON.parse(readFileSync(path, "utf8")) as State;
  } catch {
    return {}; // a damaged record only costs a rebuild
  }
}

export async function buildStage(o: BuildOptions, ctx: ResolveContext): Promise<BuildResult> {
  const { manifest } = o.input;
  const version = o.version ?? manifest.version;
  if (!version)
    throw new MkError("usage", "no version for the ISO's name", {
      file: o.input.file ?? "mkbundle",
      hint: `pass one, as in mkbundle build ${o.input.file ?? "MANIFEST"} 1.0.0, or set version: in the manifest`,
    });
  const bundle = await bundleStage(
    {
      input: o.input,
      out: o.out,
      ...(o.frozen ? { frozen: true } : {}),
      ...(o.allowMissingCommands ? { allowMissingCommands: true } : {}),
    },
    ctx,
  );
  const iso = join(o.out, isoFileName(manifest.name, manifest.flavour, version));
  const key = createHash("sha256")
    .update(
      JSON.stringify([
        bundle.bundle.sha256,
        version,
        !!o.appendInitrd,
        o.builtin,
        o.input.env["SOURCE_DATE_EPOCH"] ?? null,
        o.formats ?? null,
        codeIdentity(),
      ]),
    )
    .digest("hex");
  const statePath = join(o.out, STATE);
  const state = readState(statePath);
  const prior = state[iso];
  // The ISO is trusted unchanged while its stamp (size, mtime, inode) holds; else it is re-hashed.
  if (
    prior?.key === key &&
    (stillStamped(iso, prior) || (existsSync(iso) && (await hashFile(iso)).sha256 === prior.sha256))
  ) {
    return {
      bundle,
      iso: {
        path: iso,
        sha256: prior.sha256,
        size: statSync(iso).size,
        written: false,
        rebuilt: false,
        why: "same bundle, version and options",
      },
      ...(prior.outputs
        ? { outputs: prior.outputs.map((o) => ({ ...o, files: o.files.map((f) => ({ ...f, written: false })) })) }
        : {}),
    };
  }
  const { rebuildIso } = await import("../remaster/rebuild.js"); // not loaded when nothing changed
  const r = await rebuildIso({
    bundle: bundle.bundle.path,
    version,
    ...(o.appendInitrd ? { appendInitrd: true } : {}),
    builtin: o.builtin,
    out: o.out,
    env: o.input.env,
    layerCache: layerCacheOf(ctx.fetch.store),
    ...(o.formats ? { formats: o.formats } : {}),
  });
  if (!r.iso) throw new MkError("usage", "build makes an ISO: --format must include iso");
  state[r.iso.path] = { key, ...stampOf(r.iso.path, r.iso.sha256), outputs: r.outputs };
  await writeFileAtomic(statePath, Buffer.from(JSON.stringify(state, null, 1) + "\n"));
  const why = !prior ? "first build" : bundle.bundle.written ? "the bundle changed" : "the version or options changed";
  return {
    bundle,
    iso: { ...r.iso, rebuilt: true, why },
    outputs: r.outputs,
    builtin: r.builtin,
    ...(r.layers ? { layers: r.layers } : {}),
  };
}
