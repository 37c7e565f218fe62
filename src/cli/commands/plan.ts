// `mkbundle plan MANIFEST [--against BUNDLE]`: what a build would change, for review.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { lockPathFor, readLock } from "../../lock/lock-file.js";
import { fileError, UserError } from "../../manifest/diagnostic.js";
import { buildEpoch } from "../../overlay/epoch.js";
import type { State } from "../../plan/plan.js";
import { blobPath } from "../../store/cas.js";
import { humanBytes } from "../../store/progress.js";
import { FormatError } from "../../tree/entry.js";
import { addFetchOptions, type FetchOptions } from "../fetch-options.js";
import { addGlobalOptions, globalsOf } from "../global-options.js";
import { loadResolvedWithDir } from "../manifest-input.js";
import { makeLog, stdout, type GlobalOptions } from "../output.js";
import { resolveContext, withResolveErrors } from "../resolve-context.js";

interface PlanOptions extends FetchOptions, GlobalOptions {
  against?: string;
  json?: boolean;
}

export function planCommand(program: Command): void {
  addFetchOptions(
    addGlobalOptions(
      program
        .command("plan")
        .summary("show what a build would change against the lock or a bundle, for review")
        .description(
          "Resolve the manifest as a build would (nothing is written) and compare the result with the " +
            "manifest's lock, or with a bundle: extensions and gems added, removed or changed with sizes, " +
            "overlay files added, changed or removed, flavour, and the size delta. Without --against, the " +
            "bundle in --out for this manifest is used for overlay files when there is one. " +
            "The text is meant for a pull-request comment; --json for machines.",
        )
        .argument("<manifest>", "manifest file (YAML)")
        .option("--against <bundle>", "compare with this bundle instead of the lock")
        .option("--json", "print the plan as JSON"),
    ),
  ).action(async (file: string, _o: unknown, cmd: Command) => {
    const opts = globalsOf(cmd) as PlanOptions;
    const log = makeLog(opts);
    const { manifest, baseDir } = loadResolvedWithDir(file, opts, log);
    const ctx = resolveContext(opts, manifest, baseDir, log);
    const [{ bundleFileName }, { readBundle }, { resolveLock }, { compileOverlay }, { readBaseImage }, { makePlan, overlayFacts, renderPlan }] = await Promise.all([
      import("../../bundle/bundle.js"),
      import("../../bundle/read-bundle.js"),
      import("../../lock/resolve.js"),
      import("../../overlay/compile.js"),
      import("../../tinycore/base-image.js"),
      import("../../plan/plan.js"),
    ]);

    const before: State = {};
    let against = opts.against;
    if (!against && existsSync(join(opts.out, bundleFileName(manifest)))) against = join(opts.out, bundleFileName(manifest));
    if (opts.against && !existsSync(opts.against)) throw new UserError([fileError(opts.against, "bundle not found")]);
    const lockFile = lockPathFor(file);
    let baseline = opts.against ? opts.against : existsSync(lockFile) ? lockFile : "nothing (no lock yet)";
    if (against) {
      try {
        const b = await readBundle(against);
        Object.assign(before, { lock: b.json.lock, flavour: b.json.flavour, files: await overlayFacts(b.overlay) });
        if (!opts.against && existsSync(lockFile)) before.lock = readLock(lockFile);
        if (!opts.against) baseline = `${existsSync(lockFile) ? lockFile : "no lock"} and ${against}`;
      } catch (e) {
        if (e instanceof FormatError) throw new UserError([fileError(against, e.message)], 1);
        throw e;
      }
    } else if (existsSync(lockFile)) before.lock = readLock(lockFile);

    const plan = await withResolveErrors(file, ctx, async () => {
      const lock = await resolveLock(manifest, ctx);
      const after: State & { lock: typeof lock } = { lock, flavour: manifest.flavour };
      if (before.files) {
        const base = await readBaseImage(blobPath(ctx.fetch.store, lock.base.sha256));
        try {
          const entries = await compileOverlay({ manifest, lock, manifestDir: baseDir, blob: (s) => readFileSync(blobPath(ctx.fetch.store, s)), base: base.initrd, env: process.env, epoch: buildEpoch(manifest.epoch, process.env), warn: () => {} });
          after.files = await overlayFacts(entries);
        } finally {
          base.close();
        }
      }
      return makePlan(before, after);
    });
    if (opts.json) stdout(JSON.stringify({ manifest: file, against: baseline, ...plan }, null, 2));
    else stdout(renderPlan(plan, `mkbundle plan for ${file} (against ${baseline})`, humanBytes));
  });
}
