// `mkbundle -b FILE -m FILE [-p|-d] [-t PASSWD] [-c CONFIG] [-r] [-n]`: Razor's build-bundle-file.sh.
import type { Command } from "commander";
import { flavourDrops } from "../../manifest/resolve.js";
import { runBundle } from "../../context/pipeline.js";
import { razorRun } from "../../context/razor.js";
import { describeBuild, resolvedYaml } from "../../context/show.js";
import { MkError, problem } from "../../errors.js";
import { didYouMean } from "../../manifest/did-you-mean.js";
import type { RazorFlags } from "../../manifest/razor-flags.js";
import { globalsOf, sessionOf } from "../options.js";
import { reportBundle, type BundleCliOptions } from "./bundle.js";

export function razorOptions(program: Command): Command {
  return program
    .option("-b, --builtin-list <file>", "extensions baked into the initrd, one per line (Razor's builtin list)")
    .option("-m, --mirror-list <file>", "extensions for the image's local mirror, one per line (Razor's mirror list)")
    .option(
      "-l, --local-extents <file>",
      "your own prebuilt .tcz files, one path a line (beside the list, else from here), loaded at boot (Hanlon's -l)",
    )
    .option(
      "-a, --addtnl-kmods <file>",
      "kernel modules out of your .tcz files, '<.tcz> <module.ko> <path under kernel/drivers/>' a line, checked and placed as kernel_modules: (Hanlon's -a)",
    )
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
  "localExtents",
  "addtnlKmods",
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
  const session = sessionOf(program);
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
    !session.env["MK_BUNDLE_BUILTIN_LIST"] &&
    !session.env["MK_BUNDLE_MIRROR_LIST"]
  ) {
    program.outputHelp({ error: true });
    throw new MkError("usage", [], { reported: true });
  }
  if (opts.reusePrevDl) session.log.verbose("-r/--reuse-prev-dl: nothing to do, verified downloads are always reused");
  const run = razorRun(session, opts);
  const dropped = flavourDrops(run.input.written);
  // Said once, when something is built (the --dry-run YAML says it in its own comments).
  if (dropped.length && !opts.dryRun)
    session.log.info(
      `-p: ${dropped.map((n) => `${n}.tcz`).join(", ")} left out of the builtin list (a prod image has no remote login)`,
    );
  if (opts.dryRun)
    return session.print(
      resolvedYaml(
        run.input.manifest,
        describeBuild(run, "resolved from Razor's flags by mkbundle; defaults filled in"),
      ),
    );
  // The same pipeline as `mkbundle bundle`, with the lock kept in memory (there is no manifest file).
  const globals = globalsOf<BundleCliOptions>(program);
  reportBundle(await runBundle({ ...run.session, verbosity: session.verbosity }, run, globals), globals, session);
}
