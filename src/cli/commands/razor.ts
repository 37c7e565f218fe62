// `mkbundle -b FILE -m FILE [-p|-d] [-t PASSWD] [-c CONFIG] [-r] [-n]`: Razor's build-bundle-file.sh.
import type { Command } from "commander";
import { hasErrors, MkError, problem } from "../../errors.js";
import type { ManifestInput } from "../../manifest/input.js";
import { checkManifestData } from "../../manifest/load.js";
import { didYouMean } from "../../manifest/did-you-mean.js";
import { razorInput, type RazorFlags } from "../../manifest/razor-flags.js";
import { redacted, resolveManifest } from "../../manifest/resolve.js";
import { globalsOf } from "../options.js";
import { makeLog, stdout } from "../output.js";
import { runBundle, type BundleCliOptions } from "./bundle.js";
import { describeBuild, resolvedYaml } from "./show.js";

export function razorOptions(program: Command): Command {
  return program
    .option("-b, --builtin-list <file>", "extensions baked into the initrd, one per line (Razor's builtin list)")
    .option("-m, --mirror-list <file>", "extensions for the image's local mirror, one per line (Razor's mirror list)")
    .option("-p, --build-prod-image", "prod image: no openssh, no usable password, audited")
    .option("-d, --build-debug-image", "debug image: dev plus console autologin")
    .option("-t, --tc-passwd <passwd>", "password of the tc user (dev and debug; ignored with -p)")
    .option("--arch <arch>", "x86 (Core) or x86_64 (CorePure64) (default: from MK_BUNDLE_TCL_MIRROR_URI, else x86)")
    .option(
      "--release <series>",
      "Tiny Core series on the mirror, like 4.x or 10.x (default: from MK_BUNDLE_TCL_MIRROR_URI, else 4.x)",
    )
    .option("-c, --config <file>", "KEY=VALUE file of MK_BUNDLE_* settings (read, never evaluated)")
    .option("-r, --reuse-prev-dl", "accepted for Razor compatibility; downloads are always reused, verified")
    .option("-n, --dry-run", "print the resolved manifest as YAML (passwords redacted) and exit");
}

const RAZOR_FLAGS = [
  "builtinList",
  "mirrorList",
  "buildProdImage",
  "buildDebugImage",
  "tcPasswd",
  "config",
  "arch",
  "release",
  "reusePrevDl",
  "dryRun",
] as const;

export async function razorAction(program: Command): Promise<void> {
  const opts = program.opts<RazorFlags & { dryRun?: boolean }>();
  const globals = globalsOf<BundleCliOptions>(program);
  const log = makeLog(globals);
  if (program.args.length) {
    const known = program.commands.map((c) => c.name());
    const guess = didYouMean(program.args[0]!, known);
    throw new MkError(
      "usage",
      problem(
        `mkbundle ${program.args[0]}`,
        "is not a command",
        guess ? `did you mean 'mkbundle ${guess}'?` : `commands: ${known.join(", ")}; see mkbundle --help`,
      ),
    );
  }
  // Nothing at all (no flag, no list in the environment): a newcomer wants the help.
  if (
    !RAZOR_FLAGS.some((f) => opts[f] !== undefined) &&
    !process.env["MK_BUNDLE_BUILTIN_LIST"] &&
    !process.env["MK_BUNDLE_MIRROR_LIST"]
  ) {
    program.outputHelp({ error: true });
    throw new MkError("usage", [], { reported: true });
  }
  const razor = razorInput(opts, process.env);
  if (razor.usageError) {
    log.diagnostics(razor.diagnostics.filter((d) => d.severity === "warning"));
    throw new MkError("usage", [
      ...razor.diagnostics.filter((d) => d.severity === "error"),
      problem(
        "usage",
        "mkbundle -b FILE -m FILE [-p | -d] [-t PASSWD] [-c CONFIG] [-r] [-v] [-n]",
        "or a manifest: mkbundle build FILE; see mkbundle --help",
      ),
    ]);
  }
  if (opts.reusePrevDl) log.verbose("-r/--reuse-prev-dl: nothing to do, verified downloads are always reused");
  const checked = checkManifestData(razor.manifest, { locate: razor.locate, baseDir: process.cwd() });
  const diagnostics = [...razor.diagnostics, ...checked.diagnostics];
  if (hasErrors(diagnostics) || !checked.manifest) throw new MkError("manifest", diagnostics);
  log.diagnostics(diagnostics);
  const env = { ...process.env, ...razor.settings };
  const input: ManifestInput = {
    written: checked.manifest,
    manifest: resolveManifest(checked.manifest, { ...(globals.mirror ? { mirror: globals.mirror } : {}), env }),
    dir: process.cwd(),
    locate: razor.locate,
    env,
    warnings: [],
  };
  if (opts.dryRun)
    return stdout(
      resolvedYaml(
        redacted(input.manifest),
        describeBuild(input, "resolved from Razor's flags by mkbundle; defaults filled in", globals.out),
      ),
    );
  // The same pipeline as `mkbundle bundle`, with the lock kept in memory (there is no manifest file).
  await runBundle(input, globals, log);
}
