// `mkbundle validate FILE...`: every problem of every manifest at once.
import type { Command } from "commander";
import { hasErrors, MkError, type Diagnostic } from "../../errors.js";
import { loadManifestFile } from "../../manifest/load.js";
import { addGlobalOptions, globalsOf } from "../options.js";
import { makeLog, stdout } from "../output.js";

export function validateCommand(program: Command): void {
  addGlobalOptions(
    program
      .command("validate")
      .summary("check manifests against the schema and the semantic rules")
      .description(
        "Check each manifest: YAML syntax, duplicate keys, the JSON Schema (schemas/manifest.schema.json) and " +
          "semantic rules (extensions listed twice, files outside the manifest's directory, clear-text " +
          "passwords). Every problem is reported at once as FILE:LINE:COL: key: problem (expected ...). " +
          "Exit 0 when all are valid (warnings allowed), 2 otherwise.",
      )
      .argument("<file...>", "manifest files (YAML)")
      .option("--json", "print a JSON array on stdout, one {file, valid, diagnostics} per file"),
  ).action((files: string[], opts: { json?: boolean }, cmd: Command) => {
    const log = makeLog(globalsOf(cmd));
    const results = files.map((file) => ({ file, diagnostics: loadManifestFile(file).diagnostics }));
    if (opts.json) {
      stdout(
        JSON.stringify(
          results.map((r) => ({ file: r.file, valid: !hasErrors(r.diagnostics), diagnostics: r.diagnostics })),
          null,
          2,
        ),
      );
    } else {
      for (const r of results) {
        log.diagnostics(r.diagnostics);
        if (!hasErrors(r.diagnostics)) stdout(`${r.file}: valid${summary(r.diagnostics)}`);
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
