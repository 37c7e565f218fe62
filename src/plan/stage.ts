// `mkbundle plan`: resolve as a build would (nothing is written) and compare with what was
// built before: the lock, and the bundle in --out (or a bundle named with --against).
import { existsSync } from "node:fs";
import { join } from "node:path";
import { bundleFileName } from "../outdir/names.js";
import { readBundle } from "../bundle/read-bundle.js";
import { MkError } from "../errors.js";
import type { ResolveContext } from "../lock/context.js";
import { lockPathFor, readLock } from "../lock/lock-file.js";
import { resolveLock } from "../lock/resolve.js";
import type { ManifestInput } from "../manifest/input.js";
import type { TcPassword } from "../overlay/password.js";
import { compileOnPins } from "./compile-on-pins.js";
import { makePlan, overlayFacts, settingsOf, type Plan, type State } from "./plan.js";
import { lastBundle } from "../outdir/choose-bundle.js";
import type { ResolvedManifest } from "../manifest/types.js";

export interface PlanOptions {
  input: ManifestInput;
  out: string;
  /** Compare with this bundle instead of the lock and the bundle in --out. */
  against?: string;
  /** tc's password as the configuration resolved it (the overlay's /etc/shadow is compared as "a hash"). */
  password: TcPassword;
}

export interface PlanResult extends Plan {
  /** What the plan was compared with, in words. */
  baseline: string;
}

/**
 * The "before" of a plain plan: this manifest's bundle in --out, whatever its flavour (a
 * flavour change is what a reviewer must see): the last one written there when it is this
 * manifest's, else the current flavour's, else any.
 */
function lastBundleFor(out: string, m: ResolvedManifest): string | undefined {
  const mine = (["dev", "prod", "debug"] as const)
    .map((flavour) => join(out, bundleFileName({ ...m, flavour })))
    .filter((p) => existsSync(p));
  const last = lastBundle(out);
  const current = join(out, bundleFileName(m));
  return (last && mine.includes(last) ? last : undefined) ?? (mine.includes(current) ? current : mine[0]);
}

export async function planStage(o: PlanOptions, ctx: ResolveContext): Promise<PlanResult> {
  const { manifest } = o.input;
  const before: State = {};
  if (o.against && !existsSync(o.against)) throw new MkError("usage", "bundle not found", { file: o.against });
  const lockFile = o.input.file ? lockPathFor(o.input.file) : undefined;
  const hasLock = !!lockFile && existsSync(lockFile);
  const against = o.against ?? lastBundleFor(o.out, manifest);
  let baseline = o.against ?? (hasLock ? lockFile : "nothing (no lock yet)");
  if (against) {
    const b = await readBundle(against, ctx.limits);
    Object.assign(before, {
      lock: b.json.lock,
      flavour: b.json.flavour,
      settings: settingsOf(b.json.manifest),
      files: await overlayFacts(b.overlay, b.seed),
      ...(b.json.libraries ? { libraries: b.json.libraries } : {}),
      pruned: b.json.pruned ?? [],
    });
    const lock = !o.against && hasLock ? readLock(lockFile) : undefined;
    if (lock) before.lock = lock;
    if (!o.against) baseline = `${hasLock ? lockFile : "no lock"} and ${against}`;
  } else if (hasLock) {
    const lock = readLock(lockFile);
    if (lock) before.lock = lock;
  }

  const lock = await resolveLock(manifest, ctx);
  const after: State & { lock: typeof lock } = { lock, flavour: manifest.flavour, settings: settingsOf(manifest) };
  if (before.files) {
    const quiet = { ...ctx.log, info: () => {}, warn: () => {} };
    const { entries, seed, libraries, pruned } = await compileOnPins(o.input, lock, {
      password: o.password,
      ctx,
      log: quiet,
      allowMissingCommands: true,
    });
    after.files = await overlayFacts(entries, seed);
    if (libraries) after.libraries = libraries;
    after.pruned = pruned ?? [];
  }
  return { ...makePlan(before, after), baseline };
}
