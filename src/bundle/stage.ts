// The bundle stage (Razor's build-bundle-file.sh): lock, base image, overlay, bundle. Its
// named inputs (mkbundle's code, the resolved manifest, the lock, every files: source, tc's
// shadow field, the options) decide through the stage cache whether the last bundle stands.
import { join, relative, resolve } from "node:path";
import { hashFile } from "../io/hash.js";
import { codeIdentity } from "../io/package-version.js";
import { stampOf, stillStamped, type FileStamp } from "../io/file-stamp.js";
import { lockStage, type LockStatus } from "../lock/stage.js";
import type { Lock } from "../lock/lock-file.js";
import type { ResolveContext } from "../lock/context.js";
import type { ManifestInput } from "../manifest/input.js";
import { recordLastBundle } from "../outdir/choose-bundle.js";
import { bundleFileName } from "../outdir/names.js";
import { digestOf, stageCache, type StageInputs } from "../outdir/stage-cache.js";
import { localPackageOf } from "../manifest/types.js";
import { tcShadowField, type TcPassword } from "../overlay/password.js";
import type { WrittenFile } from "./bundle.js";

export interface BundleStageOptions {
  input: ManifestInput;
  out: string;
  /** tc's password as the configuration resolved it. */
  password: TcPassword;
  /** SOURCE_DATE_EPOCH is set: a new password hash gets a salt derived from the image. */
  reproducible: boolean;
  update?: boolean;
  frozen?: boolean;
  allowMissingCommands?: boolean;
  skipLibCheck?: boolean;
}

export interface BundleResult {
  lock: Lock;
  lockStatus: LockStatus;
  lockFile?: string;
  /** Files (not directories) in the overlay. */
  overlayFiles: number;
  overlay: WrittenFile;
  bundle: WrittenFile;
  /** Why the bundle was built again ("first build", "the manifest changed", "files/motd changed"), or "same inputs". */
  why: string;
}

/** What the stage cache keeps of a bundle stage's run. */
interface BundleOutputs {
  /** Relative to --out, with their stamps. */
  bundle: FileStamp & { path: string };
  overlay: FileStamp & { path: string };
  /** persist.seed's files, when there are any. */
  seed?: FileStamp & { path: string };
  /** tc's field in the bundle's /etc/shadow: the next build keeps its hash while the password verifies. */
  tcField: string;
  overlayFiles: number;
  /** files: sources' stamps by absolute path: their digests are reused while the stamps hold. */
  sources: Record<string, FileStamp>;
}

const bundleStageId = (name: string): string => `bundle ${name}`;

const SAY: Record<string, string> = {
  mkbundle: "mkbundle changed",
  manifest: "the manifest changed",
  lock: "the lock changed",
  options: "the options changed",
  tc: "tc's password changed",
};

export async function bundleStage(o: BundleStageOptions, ctx: ResolveContext): Promise<BundleResult> {
  const { manifest } = o.input;
  const { lock, status, lockFile } = await lockStage(
    {
      manifest,
      ...(o.input.file ? { manifestFile: o.input.file } : {}),
      ...(o.update ? { update: true } : {}),
      ...(o.frozen ? { frozen: true } : {}),
      deferDownloads: true,
    },
    ctx,
  );
  const lockResult = { lock, lockStatus: status, ...(lockFile ? { lockFile } : {}) };
  const name = bundleFileName(manifest);
  const cache = stageCache(o.out);
  const stage = bundleStageId(name);
  const previous = cache.previous<BundleOutputs>(stage);
  // tc's password is hashed once, up front: the previous hash stands while the password
  // verifies against it (read from the bundle itself when its record is lost).
  const previousTc =
    previous?.tcField ?? (await (await import("./compile-bundle.js")).tcFieldOf(join(o.out, name), ctx.limits));
  const tcField = tcShadowField(manifest, o.password, {
    previous: previousTc,
    reproducible: o.reproducible,
    log: ctx.log,
  });
  const sources = await sourceStamps(o.input, previous?.sources ?? {});
  const inputs: StageInputs = {
    mkbundle: codeIdentity(),
    manifest: digestOf(manifest),
    lock: digestOf(lock),
    options: digestOf(o.skipLibCheck ? [!!o.allowMissingCommands, "no lib check"] : [!!o.allowMissingCommands]),
    tc: digestOf(tcField),
    ...Object.fromEntries(Object.entries(sources).map(([p, s]) => [`source ${relative(o.input.dir, p)}`, s.sha256])),
  };
  // A password that cannot be had never matches a record: the build reports it.
  const hit = typeof tcField === "string" ? cache.lookup<BundleOutputs>(stage, inputs) : undefined;
  const still = (f: BundleOutputs["bundle"]) => stillStamped(join(o.out, f.path), f);
  if (hit && still(hit.bundle) && still(hit.overlay) && (!hit.seed || still(hit.seed))) {
    await recordLastBundle(o.out, hit.bundle.path);
    const same = (f: BundleOutputs["bundle"]) => ({
      path: join(o.out, f.path),
      sha256: f.sha256,
      size: f.size,
      written: false,
    });
    return {
      ...lockResult,
      overlay: same(hit.overlay),
      bundle: same(hit.bundle),
      overlayFiles: hit.overlayFiles,
      why: "same inputs",
    };
  }
  const why = cache.why(stage, inputs, (n) => SAY[n] ?? `${n.replace(/^source /, "")} changed`);

  // Something changed: the downloads are checked (and fetched), then everything is compiled.
  // (Loaded only now: an unchanged build never reads the compiler's modules.)
  const { compileBundle } = await import("./compile-bundle.js");
  const { overlay, seed, bundle, overlayFiles } = await compileBundle(o, ctx, { lock, status, tcField });
  await recordLastBundle(o.out, bundle.path);
  await cache.record(stage, inputs, {
    bundle: { ...stampOf(bundle.path, bundle.sha256), path: relative(o.out, bundle.path) },
    overlay: { ...stampOf(overlay.path, overlay.sha256), path: relative(o.out, overlay.path) },
    ...(seed ? { seed: { ...stampOf(seed.path, seed.sha256), path: relative(o.out, seed.path) } } : {}),
    tcField: typeof tcField === "string" ? tcField : "*",
    overlayFiles,
    sources,
  } satisfies BundleOutputs);
  return { ...lockResult, overlayFiles, overlay, bundle, why };
}

/** The files: (persist.seed, kernel_modules, env_file) sources' digests: from the last record while a file's stamp holds, else hashed now. */
async function sourceStamps(
  input: ManifestInput,
  known: Record<string, FileStamp>,
): Promise<Record<string, FileStamp>> {
  const out: Record<string, FileStamp> = {};
  const modules = input.manifest.kernel_modules ?? [];
  const local = [
    ...[...input.manifest.files, ...(input.manifest.persist?.seed ?? []), ...modules].flatMap((f) =>
      "source" in f ? [f.source] : [],
    ),
    ...modules.flatMap((k) => localPackageOf(k)?.file ?? []),
    ...input.manifest.services.flatMap((s) => s.env_file ?? []),
  ];
  for (const source of local) {
    const path = resolve(input.dir, source);
    if (out[path]) continue;
    out[path] = stillStamped(path, known[path]) ? known[path]! : stampOf(path, (await hashFile(path)).sha256);
  }
  return out;
}
