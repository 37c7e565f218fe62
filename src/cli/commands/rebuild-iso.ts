// `mkbundle rebuild-iso [VERSION]`: Razor's rebuild_iso.sh, rootless and reproducible.
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { Option, type Command } from "commander";
import type { BuiltinMode } from "../../remaster/unpack-builtin.js";
import { fileError, UserError } from "../../manifest/diagnostic.js";
import type { RebuildOptions, RebuildResult } from "../../remaster/rebuild.js";
import { humanBytes } from "../../store/progress.js";
import { FormatError } from "../../tree/entry.js";
import { addGlobalOptions, globalsOf } from "../global-options.js";
import { makeLog, stdout, type GlobalOptions, type Log } from "../output.js";

interface RebuildCliOptions extends GlobalOptions {
  bundle?: string;
  appendInitrd?: boolean;
  builtin: BuiltinMode;
  json?: boolean;
}

/** The newest *-bundle-*.tar.gz in the output directory. */
export function newestBundle(out: string): string | undefined {
  let found: { path: string; mtime: number } | undefined;
  for (const f of (() => {
    try {
      return readdirSync(out);
    } catch {
      return [];
    }
  })()) {
    if (!/-bundle-(dev|prod|debug)\.tar\.gz$/.test(f)) continue;
    const mtime = statSync(join(out, f)).mtimeMs;
    if (!found || mtime > found.mtime) found = { path: join(out, f), mtime };
  }
  return found?.path;
}

export function rebuildIsoCommand(program: Command): void {
  addGlobalOptions(
    program
      .command("rebuild-iso")
      .summary("remaster the base ISO from a bundle into a bootable ISO and PXE files (Razor's rebuild_iso.sh)")
      .description(
        "Read the bundle's base ISO, merge its overlay and /tmp/mk-version.yaml into the initrd of isolinux.cfg's default label, apply boot.append and boot.timeout, and write to --out:\n" +
          "  rz_mk_<flavour>-image.<version>.iso, or <name>-<flavour>-<version>.iso\n" +
          "  pxe/<name>-<version>/ (kernel, initrd(s), boot.ipxe)\n" +
          "  SHA256SUMS\n\n" +
          "--append-initrd keeps the base initrd byte for byte and adds the overlay as a second archive, boot/<name>.gz: the fast path for iteration. " +
          "Same bundle, version and SOURCE_DATE_EPOCH give the same ISO; the base's isohybrid MBR is kept.\n\n" +
          "Builtin extensions are loop-mounted at boot by Tiny Core, which needs the loop and squashfs drivers. With --builtin auto, a base initrd without kernel modules gets them unpacked into the initrd instead.",
      )
      .argument("[version]", "image version (default: the manifest's version)")
      .option("--bundle <file>", "bundle to use (default: the newest *-bundle-*.tar.gz in --out)")
      .option("--append-initrd", "add the overlay as a second initrd instead of rebuilding the base one")
      .addOption(new Option("--builtin <mode>", "builtin extensions: load (Tiny Core loop-mounts /tmp/builtin at boot), unpack (into the initrd now), auto (unpack when the base initrd has no kernel modules)").choices(["auto", "load", "unpack"]).default("auto"))
      .option("--json", "print the outputs as JSON"),
  ).action(async (version: string | undefined, _o: unknown, cmd: Command) => {
    const opts = globalsOf(cmd) as RebuildCliOptions;
    const log = makeLog(opts);
    const bundle = opts.bundle ?? newestBundle(opts.out);
    if (!bundle) throw new UserError([fileError(opts.out, "no *-bundle-*.tar.gz here", "run mkbundle bundle MANIFEST first, or pass --bundle FILE")], 2);
    const result = await rebuilding(bundle, { bundle, ...(version ? { version } : {}), ...(opts.appendInitrd ? { appendInitrd: true } : {}), builtin: opts.builtin, out: opts.out, env: process.env });
    reportRebuild(result, opts, log);
  });
}

/** Runs rebuild-iso (loaded on first use); its failures become one line, exit 1. */
export async function rebuilding(bundle: string, options: RebuildOptions): Promise<RebuildResult> {
  const { rebuildIso, RebuildError } = await import("../../remaster/rebuild.js");
  try {
    return await rebuildIso(options);
  } catch (e) {
    if (e instanceof RebuildError || e instanceof FormatError) throw new UserError([fileError(bundle, e.message)], 1);
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new UserError([fileError(bundle, "cannot read the bundle (ENOENT)")], 2);
    throw e;
  }
}

export function reportRebuild(r: RebuildResult, opts: { json?: boolean }, log: Log): void {
  if (opts.json) {
    stdout(JSON.stringify({ version: r.version, iso: r.iso, pxe: r.pxe, initrds: r.initrdPaths, builtin: r.builtin }, null, 2));
    return;
  }
  if (r.builtin.unpack) log.warn(`builtin extensions: ${r.builtin.why}`);
  else log.verbose(`builtin extensions: ${r.builtin.why}`);
  for (const f of [r.iso, ...r.pxe]) log.info(`${f.written ? "wrote    " : "unchanged"} ${f.path} (${humanBytes(f.size)}, sha256 ${f.sha256.slice(0, 16)}…)`);
  stdout(r.iso.path);
}
