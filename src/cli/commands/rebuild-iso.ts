// `mkbundle rebuild-iso [VERSION]`: Razor's rebuild_iso.sh, rootless and reproducible.
import { Option, type Command } from "commander";
import { runRebuildIso } from "../../context/pipeline.js";
import type { RebuildResult } from "../../remaster/rebuild.js";
import type { BuiltinMode } from "../../remaster/unpack-builtin.js";
import { humanBytes } from "../../store/progress.js";
import { usageError } from "../../errors.js";
import { addGlobalOptions, globalsOf, sessionOf, type CliSession } from "../options.js";

interface RebuildCliOptions {
  bundle?: string;
  appendInitrd?: boolean;
  builtin: BuiltinMode;
  format?: string[];
  force?: boolean;
  signKey?: string;
  signCert?: string;
  json?: boolean;
}

export const builtinOption = () =>
  new Option(
    "--builtin <mode>",
    "builtin extensions: load (Tiny Core loop-mounts /tmp/builtin at boot), unpack (into the initrd now), auto (unpack when the base has no loop or squashfs driver)",
  )
    .choices(["auto", "load", "unpack"])
    .default("auto");

export const formatOption = () =>
  new Option(
    "--format <names>",
    "outputs to write, comma-separated: iso, pxe, sbom (SPDX 2.3 JSON beside the ISO), esp (the EFI System Partition alone; with boot.uefi), data (the persist: partition), disk (the ISO and the data partition in one disk image) (default: every one that applies, but disk)",
  ).argParser((v: string) =>
    v
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
  );

export const forceOption = () =>
  new Option("--force", "replace a data partition (persist:) that holds other bytes, such as a guest's data");

export function rebuildIsoCommand(program: Command): void {
  addGlobalOptions(
    program
      .command("rebuild-iso")
      .summary("remaster the base ISO from a bundle into a bootable ISO and PXE files (Razor's rebuild_iso.sh)")
      .description(
        "Read the bundle's base ISO, merge its overlay and /tmp/mk-version.yaml into the initrd of isolinux.cfg's default label, apply boot.append and boot.timeout, and write to --out:\n" +
          "  rz_mk_<flavour>-image.<version>.iso, or <name>-<flavour>-<version>.iso\n" +
          "  pxe/<name>-<flavour>-<version>/ (kernel, initrd(s), boot.ipxe)\n" +
          "  the ISO's name with .spdx.json: its SBOM (mkbundle sbom)\n" +
          "  <name>-<flavour>-<version>-data.img with persist: (kept when a guest wrote to it, unless --force)\n" +
          "  <name>-<flavour>-<version>.img with --format disk: the ISO, then the data partition\n" +
          "  SHA256SUMS\n\n" +
          "--append-initrd keeps the base initrd byte for byte and adds the overlay as a second archive, boot/<name>.gz: the fast path for iteration. " +
          "Same bundle, version and SOURCE_DATE_EPOCH give the same ISO; the base's isohybrid MBR is kept.\n\n" +
          "Builtin extensions are loop-mounted at boot by Tiny Core, which needs the loop and squashfs drivers. With --builtin auto, a base without those drivers (as modules in its initrds or built in) gets them unpacked into the initrd instead.",
      )
      .argument("[version]", "image version (default: the manifest's version)")
      .option("--bundle <file>", "bundle to use (default: the one the last mkbundle bundle wrote in --out)")
      .option("--append-initrd", "add the overlay as a second initrd instead of rebuilding the base one")
      .addOption(builtinOption())
      .addOption(formatOption())
      .addOption(forceOption())
      .option("--sign-key <file>", "boot.uefi.sign: the RSA key (PEM) to sign the EFI loader and the kernel with")
      .option("--sign-cert <file>", "boot.uefi.sign: its certificate (PEM)")
      .option("--json", "print the outputs as JSON"),
  ).action(async (version: string | undefined, _o: unknown, cmd: Command) => {
    const opts = globalsOf<RebuildCliOptions>(cmd);
    const session = sessionOf(cmd);
    const r = await runRebuildIso(session, {
      ...(version ? { version } : {}),
      ...(opts.bundle ? { bundle: opts.bundle } : {}),
      ...(opts.appendInitrd ? { appendInitrd: true } : {}),
      builtin: opts.builtin,
      ...(opts.format ? { formats: opts.format } : {}),
      ...(opts.force ? { force: true } : {}),
      ...signingFlags(opts),
    });
    session.log.info(`bundle: ${r.bundle} (${r.chosen}): ${r.name}, flavour ${r.flavour}, version ${r.version}`);
    reportRebuild(r, opts, session);
  });
}

/** --sign-key and --sign-cert, both or neither. */
function signingFlags(o: RebuildCliOptions): { signing?: { key: string; cert: string } } {
  if (!o.signKey !== !o.signCert) throw usageError("--sign-key and --sign-cert go together", "pass both, or neither");
  return o.signKey && o.signCert ? { signing: { key: o.signKey, cert: o.signCert } } : {};
}

function reportRebuild(r: RebuildResult, opts: { json?: boolean }, { log, print }: CliSession): void {
  const files = r.outputs.flatMap((o) => o.files);
  if (opts.json) {
    print(
      JSON.stringify(
        {
          version: r.version,
          iso: r.iso ?? null,
          outputs: Object.fromEntries(r.outputs.map((o) => [o.format, o.files])),
          initrds: r.initrdPaths,
          builtin: r.builtin,
          layers: r.layers ?? null,
        },
        null,
        2,
      ),
    );
    return;
  }
  if (r.builtin.unpack) log.warn(`builtin extensions: ${r.builtin.why}`);
  else log.verbose(`builtin extensions: ${r.builtin.why}`);
  if (r.layers && r.layers.count > 1)
    log.info(`overlay: ${r.layers.count} layers, ${r.layers.reused} reused from the layer cache`);
  for (const f of files)
    log.info(
      `${f.written ? "wrote    " : "unchanged"} ${f.path} (${humanBytes(f.size)}, sha256 ${f.sha256.slice(0, 16)}…)`,
    );
  print(r.iso ? r.iso.path : files.map((f) => f.path).join("\n"));
}
