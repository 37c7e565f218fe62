import { Option, type Command } from "commander";
import type { GlobalOptions } from "./output.js";

/** Every command takes these, before or after its own arguments. */
export function addGlobalOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option("--mirror <url|dir>", "Tiny Core mirror: http(s) URL, file:// URL or local directory (beats the manifest's mirror:)"))
    .addOption(new Option("--work-dir <dir>", "work directory and download cache").default("tmp-build-dir"))
    .addOption(new Option("--out <dir>", "output directory").default("build-files"))
    .addOption(new Option("-q, --quiet", "print only errors and results").conflicts("verbose"))
    .addOption(new Option("-v, --verbose", "print more about each step"));
}

export function globalsOf(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals() as GlobalOptions;
}
