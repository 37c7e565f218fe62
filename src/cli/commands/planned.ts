// Commands whose issue has not landed: listed in --help so the whole tool is visible, and
// honest when run.
import type { Command } from "commander";
import { UserError, fileError } from "../../manifest/diagnostic.js";
import { addGlobalOptions } from "../global-options.js";

interface Planned {
  name: string;
  args: string;
  summary: string;
  issue: number;
}

export const PLANNED: Planned[] = [
  { name: "rebuild-iso", args: "[version]", summary: "remaster the base ISO from a bundle into a bootable ISO and PXE files (Razor's rebuild_iso.sh)", issue: 7 },
  { name: "build", args: "<manifest> [version]", summary: "lock, fetch, bundle and rebuild-iso in one step, skipping what is unchanged", issue: 7 },
  { name: "run", args: "<image>", summary: "boot an image in QEMU with a serial console", issue: 7 },
  { name: "test", args: "<image>", summary: "boot an image headless and check the console and HTTP endpoints", issue: 7 },
];

export function plannedCommands(program: Command): void {
  for (const p of PLANNED) {
    addGlobalOptions(
      program
        .command(p.name)
        .summary(`${p.summary} [not built yet]`)
        .description(`${p.summary}.\n\nNot built yet: this command lands with issue #${p.issue}.`)
        .arguments(p.args)
        .allowUnknownOption()
        .allowExcessArguments(),
    ).action(() => {
      throw new UserError([fileError(`mkbundle ${p.name}`, "is not built yet", `it lands with issue #${p.issue}`)], 1);
    });
  }
}
