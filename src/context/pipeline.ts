// The pipeline's commands as the context runs them: lock, bundle, plan, build and rebuild-iso
// for a manifest (or Razor's flags), each with its configuration and resolve context built
// here, so that the CLI only declares options and prints.
import { resolve } from "node:path";
import { attributedTo } from "../errors.js";
import type { BundleResult } from "../bundle/stage.js";
import type { LockResult } from "../lock/stage.js";
import type { PlanResult } from "../plan/stage.js";
import type { BuildResult } from "../pipeline/stage.js";
import type { RebuildResult } from "../remaster/rebuild.js";
import type { BuiltinMode } from "../remaster/unpack-builtin.js";
import { layerCacheOf, openStore } from "../store/cas.js";
import { tcPasswordOf, type ManifestRun } from "./manifest.js";
import { resolveContext, withProgress, type Verbosity } from "./resolve.js";
import { configOf, type Session } from "./session.js";

type Run = Session & { verbosity: Verbosity };

const contextOf = (s: Run, r: ManifestRun) => resolveContext(r.config, s.env, r.input, s.log, s.verbosity);

export interface LockCommand {
  update?: boolean;
  frozen?: boolean;
}

export async function runLock(s: Run, r: ManifestRun, o: LockCommand): Promise<LockResult> {
  const ctx = contextOf(s, r);
  const { lockStage } = await import("../lock/stage.js");
  return attributedTo(r.input.file ?? "mkbundle", () =>
    withProgress(ctx, () =>
      lockStage(
        {
          manifest: r.input.manifest,
          ...(r.input.file ? { manifestFile: r.input.file } : {}),
          ...(o.update ? { update: true } : {}),
          ...(o.frozen ? { frozen: true } : {}),
        },
        ctx,
      ),
    ),
  );
}

export interface BundleCommand {
  frozen?: boolean;
  allowMissingCommands?: boolean;
  skipLibCheck?: boolean;
}

const bundleOptions = (s: Run, r: ManifestRun, o: BundleCommand) => ({
  input: r.input,
  out: r.config.values.out,
  password: tcPasswordOf(s, r.input),
  reproducible: r.config.sourceDateEpoch !== undefined,
  ...(o.frozen ? { frozen: true } : {}),
  ...(o.allowMissingCommands ? { allowMissingCommands: true } : {}),
  ...(o.skipLibCheck ? { skipLibCheck: true } : {}),
});

export async function runBundle(s: Run, r: ManifestRun, o: BundleCommand): Promise<BundleResult> {
  const ctx = contextOf(s, r);
  const { bundleStage } = await import("../bundle/stage.js");
  return attributedTo(r.input.file ?? "mkbundle", () =>
    withProgress(ctx, () => bundleStage(bundleOptions(s, r, o), ctx)),
  );
}

export interface BuildCommand extends BundleCommand {
  version?: string;
  appendInitrd?: boolean;
  builtin: BuiltinMode;
  formats?: string[];
  force?: boolean;
}

export async function runBuild(s: Run, r: ManifestRun, o: BuildCommand): Promise<BuildResult> {
  const ctx = contextOf(s, r);
  const { buildStage } = await import("../pipeline/stage.js");
  return attributedTo(r.input.file ?? "mkbundle", () =>
    withProgress(ctx, () =>
      buildStage(
        {
          ...bundleOptions(s, r, o),
          ...(o.version ? { version: o.version } : {}),
          ...(o.appendInitrd ? { appendInitrd: true } : {}),
          builtin: o.builtin,
          ...(o.formats ? { formats: o.formats } : {}),
          ...(o.force ? { force: true } : {}),
          ...signingOf(r.input),
          buildTime: r.config.sourceDateEpoch,
        },
        ctx,
      ),
    ),
  );
}

/** boot.uefi.sign's files, relative to the manifest's directory (or absolute). */
function signingOf(input: ManifestRun["input"]): { signing?: { key: string; cert: string } } {
  const sign = input.manifest.boot.uefi?.sign;
  return sign ? { signing: { key: resolve(input.dir, sign.key), cert: resolve(input.dir, sign.cert) } } : {};
}

export async function runPlan(s: Run, r: ManifestRun, o: { against?: string }): Promise<PlanResult> {
  const ctx = contextOf(s, r);
  const { planStage } = await import("../plan/stage.js");
  return attributedTo(r.input.file ?? "mkbundle", () =>
    withProgress(ctx, () =>
      planStage(
        {
          input: r.input,
          out: r.config.values.out,
          password: tcPasswordOf(s, r.input),
          ...(o.against ? { against: o.against } : {}),
        },
        ctx,
      ),
    ),
  );
}

export interface RebuildCommand {
  version?: string;
  bundle?: string;
  appendInitrd?: boolean;
  builtin: BuiltinMode;
  formats?: string[];
  force?: boolean;
  /** --sign-key and --sign-cert: boot.uefi.sign's files. */
  signing?: { key: string; cert: string };
}

/** rebuild-iso: the bundle named, or the one the last bundle stage wrote in --out. */
export async function runRebuildIso(
  s: Session,
  o: RebuildCommand,
): Promise<RebuildResult & { bundle: string; chosen: string }> {
  const config = configOf(s);
  const { out, workDir } = config.values;
  const [{ chooseBundle }, { rebuildIso }] = await Promise.all([
    import("../outdir/choose-bundle.js"),
    import("../remaster/rebuild.js"),
  ]);
  const { path: bundle, why } = chooseBundle(out, o.bundle);
  const r = await attributedTo(bundle, () =>
    rebuildIso({
      bundle,
      ...(o.version ? { version: o.version } : {}),
      ...(o.appendInitrd ? { appendInitrd: true } : {}),
      builtin: o.builtin,
      out,
      buildTime: config.sourceDateEpoch,
      limits: config.limits,
      ...(o.appendInitrd ? { layerCache: layerCacheOf(openStore(workDir)) } : {}),
      ...(o.formats ? { formats: o.formats } : {}),
      ...(o.force ? { force: true } : {}),
      ...(o.signing ? { signing: o.signing } : {}),
    }),
  );
  return { ...r, bundle, chosen: why };
}

/** provides: the mirror's provides.db for the manifest's series and arch, searched. */
export async function runProvides(
  s: Run,
  r: ManifestRun,
  pattern: string,
): Promise<{ index: string; found: { extension: string; paths: string[] }[] }> {
  const ctx = contextOf(s, r);
  const [{ mirrorProvidesIndex }, { searchProvides }, { MkError }] = await Promise.all([
    import("../lock/provides-index.js"),
    import("../tinycore/provides.js"),
    import("../errors.js"),
  ]);
  const { release, arch } = r.input.manifest.base;
  const where = `${release}/${arch}/tcz/provides.db.gz`;
  const index = await withProgress(ctx, () => mirrorProvidesIndex(r.input.manifest, ctx)());
  if (!index)
    throw new MkError("resolve", `the mirror has no ${where}`, {
      hint: "Tiny Core's mirrors publish one per series and arch",
    });
  return { index: where, found: searchProvides(index, pattern) };
}
