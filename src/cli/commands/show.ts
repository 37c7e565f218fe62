// `mkbundle show FILE`: the manifest as it will be built, and what it will produce.
import type { Command } from "commander";
import { manifestFileRun } from "../../context/manifest.js";
import { derived, describeBuild, resolvedYaml } from "../../context/show.js";
import { redacted } from "../../manifest/resolve.js";
import { addGlobalOptions, sessionOf } from "../options.js";

export function showCommand(program: Command): void {
  addGlobalOptions(
    program
      .command("show")
      .summary("print the fully resolved manifest: what will be built")
      .description(
        "Print the manifest with every default filled in, the flavour applied (prod drops openssh) and the " +
          "environment applied (--mirror, SOURCE_DATE_EPOCH, MK_BUNDLE_TCL_MIRROR_URI, MK_BUNDLE_TCL_ISO_URL, " +
          "MK_BUNDLE_GEM_SERVER_URI): exactly what a build will use. The header says what is derived: the " +
          "epoch and where it comes from, the output files, the kernel when a lock knows it, and every setting " +
          "(config/settings.ts) with the option, manifest key or variable it came from. Extension names " +
          "lose their '.tcz'. Password hashes are redacted, secrets never shown. --json prints {manifest, derived}.",
      )
      .argument("<file>", "manifest file (YAML)")
      .option("--json", "print JSON instead of YAML"),
  ).action((file: string, opts: { json?: boolean }, cmd: Command) => {
    const session = sessionOf(cmd);
    const run = manifestFileRun(session, file);
    if (opts.json)
      return session.print(JSON.stringify({ manifest: redacted(run.input.manifest), derived: derived(run) }, null, 2));
    session.print(
      resolvedYaml(run.input.manifest, describeBuild(run, `resolved from ${file} by mkbundle; defaults filled in`)),
    );
  });
}
