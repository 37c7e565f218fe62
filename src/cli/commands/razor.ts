// `mkbundle -b FILE -m FILE [-p|-d] [-t PASSWD] [-c CONFIG] [-r] [-n]`: Razor's build-bundle-file.sh.
import type { Command } from "commander";
import { hasErrors, UserError, fileError } from "../../manifest/diagnostic.js";
import { checkManifestData } from "../../manifest/load.js";
import { razorInput, type RazorFlags } from "../../manifest/razor-flags.js";
import { redacted, resolveManifest } from "../../manifest/resolve.js";
import { globalsOf } from "../global-options.js";
import type { FetchOptions } from "../fetch-options.js";
import { makeLog, stdout, type GlobalOptions } from "../output.js";
import { resolveContext, withResolveErrors } from "../resolve-context.js";
import { reportBundle } from "./bundle.js";
import { resolvedYaml } from "./show.js";

export function razorOptions(program: Command): Command {
  return program
    .option("-b, --builtin-list <file>", "extensions baked into the initrd, one per line (Razor's builtin list)")
    .option("-m, --mirror-list <file>", "extensions for the image's local mirror, one per line (Razor's mirror list)")
    .option("-p, --build-prod-image", "prod image: no openssh, no usable password, audited")
    .option("-d, --build-debug-image", "debug image: dev plus console autologin")
    .option("-t, --tc-passwd <passwd>", "password of the tc user (dev and debug; ignored with -p)")
    .option("-c, --config <file>", "KEY=VALUE file of MK_BUNDLE_* settings (read, never evaluated)")
    .option("-r, --reuse-prev-dl", "accepted for Razor compatibility; downloads are always reused, verified")
    .option("-n, --dry-run", "print the resolved manifest as YAML (passwords redacted) and exit");
}

export async function razorAction(program: Command): Promise<void> {
  const opts = program.opts() as RazorFlags & { dryRun?: boolean };
  const globals = globalsOf(program);
  const log = makeLog(globals);
  if (program.args.length) {
    const known = program.commands.map((c) => c.name());
    throw new UserError([fileError(`mkbundle ${program.args[0]}`, "is not a command", `commands: ${known.join(", ")}; see mkbundle --help`)]);
  }
  // Nothing at all (no flag, no list in the environment): a newcomer wants the help.
  const razorFlags = ["builtinList", "mirrorList", "buildProdImage", "buildDebugImage", "tcPasswd", "config", "reusePrevDl", "dryRun"] as const;
  if (!razorFlags.some((f) => opts[f as keyof typeof opts] !== undefined) && !process.env["MK_BUNDLE_BUILTIN_LIST"] && !process.env["MK_BUNDLE_MIRROR_LIST"]) {
    program.outputHelp({ error: true });
    process.exitCode = 2;
    return;
  }
  const input = razorInput(opts, process.env);
  if (input.usageError) {
    log.diagnostics(input.diagnostics.filter((d) => d.severity === "warning"));
    throw new UserError(input.diagnostics.filter((d) => d.severity === "error").concat(fileError("usage", "mkbundle -b FILE -m FILE [-p | -d] [-t PASSWD] [-c CONFIG] [-r] [-v] [-n]", "or a manifest: mkbundle build FILE; see mkbundle --help")));
  }
  if (opts.reusePrevDl) log.verbose("-r/--reuse-prev-dl: nothing to do, verified downloads are always reused");
  const checked = checkManifestData(input.manifest, { locate: input.locate, baseDir: process.cwd() });
  const diagnostics = [...input.diagnostics, ...checked.diagnostics];
  if (hasErrors(diagnostics) || !checked.manifest) throw new UserError(diagnostics);
  log.diagnostics(diagnostics);
  const resolved = resolveManifest(checked.manifest, { ...(globals.mirror ? { mirror: globals.mirror } : {}), env: { ...process.env, ...input.settings } });
  if (opts.dryRun) {
    stdout(resolvedYaml(redacted(resolved), "resolved from Razor's flags"));
    return;
  }
  // The same pipeline as `mkbundle bundle`, with the lock kept in memory (there is no manifest file).
  const fetchOpts = globalsOf(program) as unknown as FetchOptions & GlobalOptions & { json?: boolean };
  const ctx = resolveContext(fetchOpts, resolved, process.cwd(), log);
  const env = { ...process.env, ...input.settings };
  const { bundleStage } = await import("../../bundle/stage.js");
  const result = await withResolveErrors("mkbundle", ctx, () => bundleStage({ manifest: resolved, manifestDir: process.cwd(), out: globals.out, env }, ctx));
  reportBundle(result, fetchOpts, log);
}
