// `mkbundle clean`: list (and with --yes remove) the files in --out no build names any more.
import type { Command } from "commander";
import { cleanPlan, removeStale } from "../../context/clean.js";
import { humanBytes } from "../../store/progress.js";
import { addGlobalOptions, sessionOf } from "../options.js";

export function cleanCommand(program: Command): void {
  addGlobalOptions(
    program
      .command("clean")
      .summary("list or remove outputs in --out that no current build names (old overlays, old versions)")
      .description(
        "Every build records the files it wrote in --out; a file mkbundle writes (overlay-<sha256>.tar.gz, " +
          "*-bundle-*.tar.gz, *.iso, *-efi.img, pxe/) that no record names any more is stale: an overlay " +
          "replaced by a newer one, the ISO of an older version. Without --yes they are only listed; other " +
          "files in --out are never touched, and SHA256SUMS loses the lines of the files removed.\n\n" +
          "  mkbundle clean --out build-files          # what would be removed\n" +
          "  mkbundle clean --out build-files --yes    # remove it",
      )
      .option("-y, --yes", "remove the files (without it, clean only lists them)"),
    ["mirror", "work-dir"],
  ).action(async (opts: { yes?: boolean }, cmd: Command) => {
    const session = sessionOf(cmd);
    const { out, plan } = cleanPlan(session);
    const size = humanBytes(plan.stale.reduce((n, f) => n + f.size, 0));
    const count = `${plan.stale.length} stale file${plan.stale.length === 1 ? "" : "s"} (${size})`;
    for (const f of plan.stale) session.print(`${humanBytes(f.size).padStart(10)}  ${f.path}`);
    if (!opts.yes) {
      session.log.info(
        `${out}: would keep ${plan.kept} current output${plan.kept === 1 ? "" : "s"}; would remove ${count}` +
          (plan.stale.length ? ": run again with --yes to remove them" : ""),
      );
      return;
    }
    await removeStale(out, plan);
    session.log.info(`${out}: removed ${count}; kept ${plan.kept} current output${plan.kept === 1 ? "" : "s"}`);
  });
}
