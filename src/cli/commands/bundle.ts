// `mkbundle bundle MANIFEST`: the overlay and the bundle (Razor's build-bundle-file.sh).
import type { Command } from "commander";
import type { BundleResult } from "../../bundle/stage.js";
import { manifestFileRun } from "../../context/manifest.js";
import { runBundle } from "../../context/pipeline.js";
import { humanBytes } from "../../store/progress.js";
import {
  addFetchOptions,
  addGlobalOptions,
  globalsOf,
  sessionOf,
  type CliSession,
  type FetchOptions,
} from "../options.js";
import type { GlobalOptions } from "../output.js";

export interface BundleCliOptions extends FetchOptions, GlobalOptions {
  json?: boolean;
  frozen?: boolean;
  allowMissingCommands?: boolean;
  /** false with --no-lib-check. */
  libCheck?: boolean;
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
            "Same inputs and SOURCE_DATE_EPOCH give byte-identical files; an unchanged build rewrites nothing. " +
            "A service whose program is not in the image is an error (exit 2).",
        )
        .argument("<manifest>", "manifest file (YAML)")
        .option("--frozen", "fail when the lock is missing or stale, or a download does not match it")
        .option("--allow-missing-commands", "build even when a service's program is not in the image")
        .option("--no-lib-check", "do not check that the programs the manifest brings in find their shared libraries")
        .option("--json", "print the summary as JSON on stdout"),
    ),
  ).action(async (file: string, _o: unknown, cmd: Command) => {
    const opts = globalsOf<BundleCliOptions>(cmd);
    const session = sessionOf(cmd);
    const run = { ...opts, ...(opts.libCheck === false ? { skipLibCheck: true } : {}) };
    reportBundle(await runBundle(session, manifestFileRun(session, file), run), opts, session);
  });
}

/** The bundle stage's summary: lines on stderr and the bundle's path on stdout, or JSON. */
export function reportBundle(r: BundleResult, opts: { json?: boolean }, { log, print }: CliSession): void {
  const summary = {
    lock: r.lockFile ?? null,
    lockStatus: r.lockStatus,
    overlay: {
      path: r.overlay.path,
      sha256: r.overlay.sha256,
      size: r.overlay.size,
      files: r.overlayFiles,
      written: r.overlay.written,
    },
    bundle: { path: r.bundle.path, sha256: r.bundle.sha256, size: r.bundle.size, written: r.bundle.written },
    why: r.why,
    extensions: r.lock.extensions.length,
    gems: r.lock.gems.length,
  };
  if (opts.json) return print(JSON.stringify(summary, null, 2));
  log.info(`lock: ${r.lockFile ? `${r.lockFile} (${r.lockStatus})` : r.lockStatus}`);
  log.info(`bundle: ${r.why === "same inputs" ? "unchanged: same inputs" : `built: ${r.why}`}`);
  for (const f of [r.overlay, r.bundle])
    log.info(`${f.written ? "wrote    " : "unchanged"} ${f.path} (${humanBytes(f.size)}, sha256 ${f.sha256})`);
  print(r.bundle.path);
}
