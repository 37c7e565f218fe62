// `mkbundle plan MANIFEST [--against BUNDLE]`: what a build would change, for review.
import type { Command } from "commander";
import { manifestFileRun } from "../../context/manifest.js";
import { runPlan } from "../../context/pipeline.js";
import { humanBytes } from "../../store/progress.js";
import { addFetchOptions, addGlobalOptions, globalsOf, sessionOf, type FetchOptions } from "../options.js";

interface PlanCliOptions extends FetchOptions {
  against?: string;
  json?: boolean;
}

export function planCommand(program: Command): void {
  addFetchOptions(
    addGlobalOptions(
      program
        .command("plan")
        .summary("show what a build would change against the lock or a bundle, for review")
        .description(
          "Resolve the manifest as a build would (nothing is written) and compare the result with what was " +
            "built before: the manifest's lock and its last bundle in --out (whatever its flavour), or a " +
            "bundle named with --against. Shown: flavour; settings (version, boot line, timeout, volume id, " +
            "base, UEFI loader, persist, services); extensions and gems added, removed or changed with sizes; overlay " +
            "files added, changed or removed; the shared libraries the programs need; the size delta. The text is meant for a pull-request comment; --json for machines.\n\n" +
            "  mkbundle plan manifests/hello-service.yaml\n" +
            "  mkbundle plan manifests/hello-service.yaml --against build-files/hello-service-bundle-prod.tar.gz",
        )
        .argument("<manifest>", "manifest file (YAML)")
        .option("--against <bundle>", "compare with this bundle instead of the lock")
        .option("--json", "print the plan as JSON"),
    ),
  ).action(async (file: string, _o: unknown, cmd: Command) => {
    const opts = globalsOf<PlanCliOptions>(cmd);
    const session = sessionOf(cmd);
    const plan = await runPlan(session, manifestFileRun(session, file), opts);
    const { renderPlan } = await import("../../plan/plan.js");
    const { baseline, ...changes } = plan;
    if (opts.json) session.print(JSON.stringify({ manifest: file, against: baseline, ...changes }, null, 2));
    else session.print(renderPlan(changes, `mkbundle plan for ${file} (against ${baseline})`, humanBytes));
  });
}
