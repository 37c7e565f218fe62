// `mkbundle bundle MANIFEST`: the overlay and the bundle (Razor's build-bundle-file.sh).
import type { Command } from "commander";
import type { BundleResult } from "../../bundle/stage.js";
import { humanBytes } from "../../store/progress.js";
import { addFetchOptions, type FetchOptions } from "../fetch-options.js";
import { addGlobalOptions, globalsOf } from "../global-options.js";
import { loadResolvedWithDir } from "../manifest-input.js";
import { makeLog, stdout, type GlobalOptions, type Log } from "../output.js";
import { resolveContext, withResolveErrors } from "../resolve-context.js";

interface BundleOptions extends FetchOptions, GlobalOptions {
  json?: boolean;
  frozen?: boolean;
}

export function bundleCommand(program: Command): void {
  addFetchOptions(
    addGlobalOptions(
      program
        .command("bundle")
        .summary("compile the overlay and write the bundle (Razor's build-bundle-file.sh)")
        .description(
          "Lock (or verify the lock), then compile the overlay from the manifest, the pinned downloads and " +
            "the base initrd's own /etc and /opt files, and write to --out:\n" +
            "  overlay-<sha256>.tar.gz          the files the image adds or changes\n" +
            "  <name>-bundle-<flavour>.tar.gz   bundle.json, the overlay and the base ISO\n" +
            "Same inputs and SOURCE_DATE_EPOCH give byte-identical files; an unchanged build rewrites nothing.",
        )
        .argument("<manifest>", "manifest file (YAML)")
        .option("--frozen", "fail when the lock is missing or stale, or a download does not match it")
        .option("--json", "print the summary as JSON on stdout"),
    ),
  ).action(async (file: string, _o: unknown, cmd: Command) => {
    const opts = globalsOf(cmd) as BundleOptions;
    const log = makeLog(opts);
    const { manifest, baseDir } = loadResolvedWithDir(file, opts, log);
    const ctx = resolveContext(opts, manifest, baseDir, log);
    const { bundleStage } = await import("../../bundle/stage.js");
    const result = await withResolveErrors(file, ctx, () => bundleStage({ manifest, manifestFile: file, manifestDir: baseDir, out: opts.out, env: process.env, ...(opts.frozen ? { frozen: true } : {}) }, ctx));
    reportBundle(result, opts, log);
  });
}

export function reportBundle(r: BundleResult, opts: { json?: boolean }, log: Log): void {
  const summary = {
    lock: r.lockFile ?? null,
    lockStatus: r.lockStatus,
    overlay: { path: r.overlay.path, sha256: r.overlay.sha256, size: r.overlay.size, files: r.overlayEntries.filter((e) => e.type !== "dir").length, written: r.overlay.written },
    bundle: { path: r.bundle.path, sha256: r.bundle.sha256, size: r.bundle.size, written: r.bundle.written },
    extensions: r.lock.extensions.length,
    gems: r.lock.gems.length,
  };
  if (opts.json) {
    stdout(JSON.stringify(summary, null, 2));
    return;
  }
  log.info(`lock: ${r.lockFile ? `${r.lockFile} (${r.lockStatus})` : r.lockStatus}`);
  for (const f of [r.overlay, r.bundle]) log.info(`${f.written ? "wrote    " : "unchanged"} ${f.path} (${humanBytes(f.size)}, sha256 ${f.sha256})`);
  stdout(r.bundle.path);
}
