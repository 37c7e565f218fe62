// `mkbundle validate FILE...`: every problem of every manifest at once.
import type { Command } from "commander";
import { checkImageOf, validateManifest } from "../../context/validate.js";
import { hasErrors, MkError, type Diagnostic } from "../../errors.js";
import { addFetchOptions, addGlobalOptions, sessionOf } from "../options.js";

export function validateCommand(program: Command): void {
  addFetchOptions(
    addGlobalOptions(
      program
        .command("validate")
        .summary("check manifests against the schema and the semantic rules")
        .description(
          "Check each manifest: YAML syntax, duplicate keys, the JSON Schema (schemas/manifest.schema.json), " +
            "semantic rules (extensions listed twice, files outside the manifest's directory, clear-text " +
            "passwords, extract paths) and what a build needs that no download can tell (a version, the " +
            "password's variable set). Every problem is reported at once as FILE:LINE:COL: key: problem " +
            "(expected ...). With --strict, a manifest whose lock is beside it also has the image checked as a " +
            "build would check it, on the lock's pins (fetched and verified when not cached; nothing written): " +
            "every program's shared libraries, service commands, the prod audit; a stale lock is reported. " +
            "Exit 0 when all are valid (warnings allowed; none with --strict), 2 otherwise.\n\n" +
            "  mkbundle validate manifests/*.yaml\n" +
            "  mkbundle validate --strict --json manifests/hello-service.yaml   # in CI",
        )
        .argument("<file...>", "manifest files (YAML)")
        .option("--strict", "treat warnings as errors (for CI)")
        .option("--json", "print one JSON array on stdout: a {file, valid, diagnostics} object per file"),
    ),
  ).action(async (files: string[], opts: { json?: boolean; strict?: boolean }, cmd: Command) => {
    const session = sessionOf(cmd);
    const { log, env, print } = session;
    const results = [];
    for (const file of files) {
      const diagnostics = validateManifest(file, env, !!opts.strict);
      if (opts.strict && !hasErrors(diagnostics)) diagnostics.push(...(await checkImageOf(session, file)));
      results.push({ file, diagnostics });
    }
    if (opts.json) {
      print(
        JSON.stringify(
          results.map((r) => ({ file: r.file, valid: !hasErrors(r.diagnostics), diagnostics: r.diagnostics })),
          null,
          2,
        ),
      );
    } else {
      for (const r of results) {
        log.diagnostics(r.diagnostics);
        if (!hasErrors(r.diagnostics)) print(`${r.file}: valid${summary(r.diagnostics)}`);
      }
    }
    const failed = results.filter((r) => hasErrors(r.diagnostics)).length;
    if (!failed) return;
    if (!opts.json) log.error(`${failed} of ${results.length} manifest${results.length > 1 ? "s" : ""} invalid`);
    throw new MkError("manifest", [], { reported: true });
  });
}

function summary(ds: Diagnostic[]): string {
  const n = ds.filter((d) => d.severity === "warning").length;
  return n ? ` (${n} warning${n > 1 ? "s" : ""})` : "";
}
