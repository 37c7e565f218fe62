// `mkbundle build MANIFEST [VERSION]`: lock, bundle and rebuild-iso, skipping what is unchanged.
import type { Command } from "commander";
import { manifestFileRun } from "../../context/manifest.js";
import { runBuild } from "../../context/pipeline.js";
import type { BuiltinMode } from "../../remaster/unpack-builtin.js";
import { dirname, join } from "node:path";
import { SUMS_FILE } from "../../outdir/names.js";
import { humanBytes } from "../../store/progress.js";
import { addFetchOptions, addGlobalOptions, globalsOf, sessionOf, type FetchOptions } from "../options.js";
import { builtinOption, forceOption, formatOption } from "./rebuild-iso.js";

interface BuildCliOptions extends FetchOptions {
  appendInitrd?: boolean;
  builtin: BuiltinMode;
  frozen?: boolean;
  allowMissingCommands?: boolean;
  /** false with --no-lib-check. */
  libCheck?: boolean;
  format?: string[];
  force?: boolean;
  json?: boolean;
}

export function buildCommand(program: Command): void {
  addFetchOptions(
    addGlobalOptions(
      program
        .command("build")
        .summary("lock, fetch, bundle and rebuild-iso in one step, skipping what is unchanged")
        .description(
          "The whole job: mkbundle lock (keeping an up-to-date lock), bundle, and rebuild-iso, each stage skipped " +
            "when its inputs are unchanged. Prints what was rebuilt and why; the ISO path on stdout.\n\n" +
            "  mkbundle build manifests/hello-service.yaml",
        )
        .argument("<manifest>", "manifest file (YAML)")
        .argument("[version]", "image version (default: the manifest's version)")
        .option("--append-initrd", "add the overlay as a second initrd (fast iteration)")
        .addOption(builtinOption())
        .addOption(formatOption())
        .addOption(forceOption())
        .option("--frozen", "fail when the lock is missing or stale, or a download does not match it")
        .option("--allow-missing-commands", "build even when a service's program is not in the image")
        .option("--no-lib-check", "do not check that the programs the manifest brings in find their shared libraries")
        .option("--json", "print the summary as JSON"),
    ),
  ).action(async (file: string, version: string | undefined, _o: unknown, cmd: Command) => {
    const opts = globalsOf<BuildCliOptions>(cmd);
    const session = sessionOf(cmd);
    const log = session.log;
    const r = await runBuild(session, manifestFileRun(session, file), {
      ...(version ? { version } : {}),
      ...(opts.appendInitrd ? { appendInitrd: true } : {}),
      builtin: opts.builtin,
      ...(opts.frozen ? { frozen: true } : {}),
      ...(opts.allowMissingCommands ? { allowMissingCommands: true } : {}),
      ...(opts.libCheck === false ? { skipLibCheck: true } : {}),
      ...(opts.format ? { formats: opts.format } : {}),
      ...(opts.force ? { force: true } : {}),
    });
    if (r.builtin?.unpack) log.warn(`builtin extensions: ${r.builtin.why}`);
    const b = r.bundle;
    if (opts.json) {
      const outputs = r.outputs ? Object.fromEntries(r.outputs.map((o) => [o.format, o.files])) : null;
      session.print(
        JSON.stringify(
          {
            lock: { path: b.lockFile ?? null, status: b.lockStatus },
            bundle: { path: b.bundle.path, sha256: b.bundle.sha256, written: b.bundle.written, why: b.why },
            iso: r.iso,
            outputs,
            layers: r.layers ?? null,
          },
          null,
          2,
        ),
      );
      return;
    }
    log.info(`lock:   ${b.lockFile} (${b.lockStatus})`);
    const bundleState =
      b.why === "same inputs"
        ? "unchanged: same inputs"
        : `${b.bundle.written ? "rebuilt" : "rebuilt, same bytes"}: ${b.why}`;
    log.info(`bundle: ${b.bundle.path} (${bundleState}; ${humanBytes(b.bundle.size)})`);
    if (r.layers && r.layers.count > 1)
      log.info(`layers: ${r.layers.count} in the overlay, ${r.layers.reused} reused from the layer cache`);
    if (r.budget && Object.keys(r.budget).length)
      log.info(
        `budget: ${Object.entries(r.budget)
          .map(([k, v]) => `${k} ${humanBytes(v.bytes)} of ${humanBytes(v.limit)}`)
          .join(", ")}`,
      );
    log.info(
      `iso:    ${r.iso.path} (${r.iso.rebuilt ? "rebuilt" : "unchanged"}: ${r.iso.why}; ${humanBytes(r.iso.size)}, sha256 ${r.iso.sha256})`,
    );
    // Every other file the build wrote or kept in --out, so nothing there is a surprise.
    const others = [
      { label: "overlay", path: b.overlay.path, size: b.overlay.size },
      ...(r.outputs ?? []).flatMap((o) =>
        o.files.filter((f) => f.path !== r.iso.path).map((f) => ({ label: o.format, path: f.path, size: f.size })),
      ),
    ];
    for (const f of others) log.info(`${`${f.label}:`.padEnd(7)} ${f.path} (${humanBytes(f.size)})`);
    log.info(`sums:   ${join(dirname(r.iso.path), SUMS_FILE)}`);
    session.print(r.iso.path);
  });
}
