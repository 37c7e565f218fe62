// `mkbundle show FILE`: the manifest as it will be built, and what it will produce.
import { existsSync } from "node:fs";
import type { Command } from "commander";
import { lockPathFor, readLock } from "../../lock/lock-file.js";
import { buildEpoch } from "../../manifest/epoch.js";
import type { ManifestInput } from "../../manifest/input.js";
import { flavourDrops, redacted } from "../../manifest/resolve.js";
import type { ResolvedManifest } from "../../manifest/types.js";
import { bundleFileName, isoFileName, pxeDirName, SUMS_FILE } from "../../remaster/names.js";
import { yamlLib } from "../../io/lazy.js";
import { addGlobalOptions, globalsOf, loadManifest } from "../options.js";
import { makeLog, stdout } from "../output.js";

export function showCommand(program: Command): void {
  addGlobalOptions(
    program
      .command("show")
      .summary("print the fully resolved manifest: what will be built")
      .description(
        "Print the manifest with every default filled in, the flavour applied (prod drops openssh) and the " +
          "environment applied (--mirror, SOURCE_DATE_EPOCH, MK_BUNDLE_TCL_MIRROR_URI, MK_BUNDLE_TCL_ISO_URL, " +
          "MK_BUNDLE_GEM_SERVER_URI): exactly what a build will use. The header says what is derived: the " +
          "epoch and where it comes from, the output files, the kernel when a lock knows it. Extension names " +
          "lose their '.tcz'. Password hashes are redacted. --json prints {manifest, derived}.",
      )
      .argument("<file>", "manifest file (YAML)")
      .option("--json", "print JSON instead of YAML"),
  ).action((file: string, opts: { json?: boolean }, cmd: Command) => {
    const globals = globalsOf(cmd);
    const input = loadManifest(file, globals, makeLog(globals));
    const manifest = redacted(input.manifest);
    if (opts.json) return stdout(JSON.stringify({ manifest, derived: derived(input) }, null, 2));
    stdout(
      resolvedYaml(
        manifest,
        describeBuild(input, `resolved from ${file} by mkbundle; defaults filled in`, globals.out),
      ),
    );
  });
}

/** The header of `show` and `--dry-run`: what the resolution derived, in words. */
export function describeBuild(input: ManifestInput, origin: string, out: string): string[] {
  const d = derived(input);
  return [
    origin,
    ...(d.dropped.length
      ? [`flavour ${input.manifest.flavour} leaves out of extensions.builtin: ${d.dropped.join(", ")}`]
      : []),
    `epoch ${d.epoch.value} (${new Date(d.epoch.value * 1000).toISOString()}) from ${d.epoch.source === "default" ? "the default; set epoch: or SOURCE_DATE_EPOCH" : d.epoch.source}`,
    ...(d.kernel ? [`kernel ${d.kernel} (from ${d.lockFile})`] : []),
    `outputs in ${out}/: ${d.outputs.join(", ")}`,
  ];
}

function derived(input: ManifestInput) {
  const m = input.manifest;
  const version = m.version ?? "<version>";
  const lockFile = input.file ? lockPathFor(input.file) : undefined;
  let kernel: string | undefined;
  try {
    kernel = lockFile && existsSync(lockFile) ? readLock(lockFile)?.kernel : undefined;
  } catch {
    kernel = undefined; // a damaged lock: lock and build report it
  }
  return {
    dropped: flavourDrops(input.written),
    epoch: buildEpoch(input.written.epoch, input.env),
    ...(kernel ? { kernel, lockFile } : {}),
    outputs: [
      bundleFileName(m),
      isoFileName(m.name, m.flavour, version),
      `${pxeDirName(m.name, m.flavour, version)}/`,
      SUMS_FILE,
    ],
  };
}

export function resolvedYaml(m: ResolvedManifest, header: readonly string[]): string {
  return header.map((l) => `# ${l}\n`).join("") + yamlLib().stringify(m, { lineWidth: 0 });
}
