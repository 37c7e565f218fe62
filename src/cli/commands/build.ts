// `mkbundle build MANIFEST [VERSION]`: lock/fetch + bundle + rebuild-iso, each stage
// skipped when its inputs are unchanged (content addresses), with a summary of why.
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Option, type Command } from "commander";
import { fileError, UserError } from "../../manifest/diagnostic.js";
import { isoFileName } from "../../remaster/outputs.js";
import type { BuiltinMode } from "../../remaster/unpack-builtin.js";
import { humanBytes } from "../../store/progress.js";
import { packageVersion } from "../../util/package-version.js";
import { writeFileAtomic } from "../../util/write-atomic.js";
import { addFetchOptions, type FetchOptions } from "../fetch-options.js";
import { addGlobalOptions, globalsOf } from "../global-options.js";
import { loadResolvedWithDir } from "../manifest-input.js";
import { makeLog, stdout, type GlobalOptions } from "../output.js";
import { resolveContext, withResolveErrors } from "../resolve-context.js";
import { rebuilding } from "./rebuild-iso.js";

interface BuildOptions extends FetchOptions, GlobalOptions {
  appendInitrd?: boolean;
  builtin: BuiltinMode;
  frozen?: boolean;
  json?: boolean;
}

const STATE = ".mkbundle-build.json";
type State = Record<string, { key: string; sha256: string }>;

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
        .addOption(new Option("--builtin <mode>", "builtin extensions: load, unpack or auto (see rebuild-iso --help)").choices(["auto", "load", "unpack"]).default("auto"))
        .option("--frozen", "fail when the lock is missing or stale, or a download does not match it")
        .option("--json", "print the summary as JSON"),
    ),
  ).action(async (file: string, version: string | undefined, _o: unknown, cmd: Command) => {
    const opts = globalsOf(cmd) as BuildOptions;
    const log = makeLog(opts);
    const { manifest, baseDir } = loadResolvedWithDir(file, opts, log);
    if (!version && !manifest.version) throw new UserError([fileError(file, "no version for the ISO's name", `pass one, as in mkbundle build ${file} 1.0.0, or set version: in the manifest`)]);
    const ctx = resolveContext(opts, manifest, baseDir, log);
    const { bundleStage } = await import("../../bundle/stage.js");
    const b = await withResolveErrors(file, ctx, () => bundleStage({ manifest, manifestFile: file, manifestDir: baseDir, out: opts.out, env: process.env, ...(opts.frozen ? { frozen: true } : {}) }, ctx));
    const v = version ?? manifest.version;
    const iso = v ? join(opts.out, isoFileName(manifest.name, manifest.flavour, v)) : undefined;
    // The ISO depends on the bundle's bytes, the version, the options and SOURCE_DATE_EPOCH (its build time).
    const key = createHash("sha256").update(JSON.stringify([b.bundle.sha256, v ?? null, !!opts.appendInitrd, opts.builtin, process.env["SOURCE_DATE_EPOCH"] ?? null, packageVersion()])).digest("hex");
    const statePath = join(opts.out, STATE);
    const state: State = existsSync(statePath) ? (JSON.parse(readFileSync(statePath, "utf8")) as State) : {};
    const prior = iso ? state[iso] : undefined;
    const fresh = iso && prior?.key === key && existsSync(iso) && createHash("sha256").update(readFileSync(iso)).digest("hex") === prior.sha256;
    let isoResult: { path: string; sha256: string; size: number; rebuilt: boolean; why: string };
    if (fresh) {
      isoResult = { path: iso, sha256: prior!.sha256, size: readFileSync(iso).length, rebuilt: false, why: "same bundle, version and options" };
    } else {
      const r = await rebuilding(b.bundle.path, { bundle: b.bundle.path, ...(v ? { version: v } : {}), ...(opts.appendInitrd ? { appendInitrd: true } : {}), builtin: opts.builtin, out: opts.out, env: process.env });
      if (r.builtin.unpack) log.warn(`builtin extensions: ${r.builtin.why}`);
      state[r.iso.path] = { key, sha256: r.iso.sha256 };
      await writeFileAtomic(statePath, Buffer.from(JSON.stringify(state, null, 1) + "\n"));
      isoResult = { path: r.iso.path, sha256: r.iso.sha256, size: r.iso.size, rebuilt: true, why: !prior ? "first build" : b.bundle.written ? "the bundle changed" : "the version or options changed" };
    }
    const summary = {
      lock: { path: b.lockFile ?? null, status: b.lockStatus },
      bundle: { path: b.bundle.path, sha256: b.bundle.sha256, written: b.bundle.written },
      iso: isoResult,
    };
    if (opts.json) {
      stdout(JSON.stringify(summary, null, 2));
      return;
    }
    log.info(`lock:   ${b.lockFile} (${b.lockStatus})`);
    log.info(`bundle: ${b.bundle.path} (${b.bundle.written ? "rebuilt" : "unchanged"}, ${humanBytes(b.bundle.size)})`);
    log.info(`iso:    ${isoResult.path} (${isoResult.rebuilt ? "rebuilt" : "unchanged"}: ${isoResult.why}; ${humanBytes(isoResult.size)}, sha256 ${isoResult.sha256})`);
    stdout(isoResult.path);
  });
}
