// `mkbundle provides PATTERN MANIFEST`: which extensions ship a file (Tiny Core's provides.sh).
import type { Command } from "commander";
import { manifestFileRun } from "../../context/manifest.js";
import { runProvides } from "../../context/pipeline.js";
import { addGlobalOptions, globalsOf, sessionOf } from "../options.js";

export function providesCommand(program: Command): void {
  addGlobalOptions(
    program
      .command("provides")
      .summary("which extensions ship a file, a library or a path (the mirror's provides.db)")
      .description(
        "Search the mirror's tcz/provides.db.gz for the manifest's series and arch, as Tiny Core's provides.sh " +
          "does: a file name, a soname (or its start) or a path suffix. Prints each extension with the paths " +
          "that match. The index is advisory: it can lag the extensions themselves.\n\n" +
          "  mkbundle provides libreadline.so manifests/hello-service.yaml",
      )
      .argument("<pattern>", "a file name, a soname or a path suffix")
      .argument("<manifest>", "the manifest whose series, arch and mirror to search")
      .option("--json", "print JSON"),
    ["out"],
  ).action(async (pattern: string, file: string, _o: unknown, cmd: Command) => {
    const opts = globalsOf<{ json?: boolean }>(cmd);
    const session = sessionOf(cmd);
    const r = await runProvides(session, manifestFileRun(session, file), pattern);
    if (opts.json) return session.print(JSON.stringify(r.found, null, 2));
    if (!r.found.length) session.log.info(`nothing in ${r.index} matches '${pattern}'`);
    for (const f of r.found) session.print(`${f.extension}.tcz: ${f.paths.map((p) => `/${p}`).join(" ")}`);
  });
}
