import type { Command } from "commander";
import { STARTER_FILE, writeStarter, type StarterOptions } from "../../manifest/starter.js";
import { addGlobalOptions, sessionOf } from "../options.js";

export function initCommand(program: Command): void {
  addGlobalOptions(
    program
      .command("init")
      .summary("write a commented starter manifest")
      .description(
        `Write DIR/${STARTER_FILE}: a small, valid, commented manifest to start from. Never overwrites without --force.`,
      )
      .argument("[dir]", "directory to write into (created if missing)", ".")
      .option("--name <name>", "image name (default: from the directory name)")
      .option("--arch <arch>", "x86 (Core, 32-bit) or x86_64 (CorePure64)", "x86")
      .option("--release <series>", "Tiny Core series on the mirror (default: 4.x for x86, 16.x for x86_64)")
      .option("--force", `overwrite an existing ${STARTER_FILE}`),
  ).action(async (dir: string, opts: StarterOptions, cmd: Command) => {
    const session = sessionOf(cmd);
    const { log } = session;
    const target = await writeStarter(dir, opts);
    log.info(`wrote ${target}; check it with: mkbundle validate ${target}`);
    session.print(target);
  });
}
