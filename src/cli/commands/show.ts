import type { Command } from "commander";
import { yamlLib } from "../../util/lazy.js";
import { redacted } from "../../manifest/resolve.js";
import type { ResolvedManifest } from "../../manifest/types.js";
import { addGlobalOptions, globalsOf } from "../global-options.js";
import { loadResolved } from "../manifest-input.js";
import { makeLog, stdout } from "../output.js";

export function showCommand(program: Command): void {
  addGlobalOptions(
    program
      .command("show")
      .summary("print the fully resolved manifest: what will be built")
      .description(
        "Print the manifest with every default filled in and the environment applied (--mirror, " +
          "MK_BUNDLE_TCL_MIRROR_URI, MK_BUNDLE_TCL_ISO_URL, MK_BUNDLE_GEM_SERVER_URI): exactly what a build " +
          "will use. Extension names lose their '.tcz'. Password hashes are redacted.",
      )
      .argument("<file>", "manifest file (YAML)")
      .option("--json", "print JSON instead of YAML"),
  ).action((file: string, opts: { json?: boolean }, cmd: Command) => {
    const globals = globalsOf(cmd);
    const resolved = redacted(loadResolved(file, globals, makeLog(globals)));
    stdout(opts.json ? JSON.stringify(resolved, null, 2) : resolvedYaml(resolved, `resolved from ${file}`));
  });
}

export function resolvedYaml(m: ResolvedManifest, origin: string): string {
  return `# ${origin} by mkbundle; defaults filled in\n` + yamlLib().stringify(m, { lineWidth: 0 });
}
