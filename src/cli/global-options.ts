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

/**
 * The command's options merged with its parents', an explicit value winning over a default
 * wherever it was given (commander's optsWithGlobals lets a parent's default win).
 */
export function globalsOf(cmd: Command): GlobalOptions {
  const chain: Command[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) chain.push(c);
  const out: Record<string, unknown> = {};
  for (const key of new Set(chain.flatMap((c) => Object.keys(c.opts())))) {
    const given = chain.filter((c) => c.opts()[key] !== undefined);
    const pick = given.find((c) => c.getOptionValueSource(key) !== "default") ?? given[0];
    out[key] = pick?.opts()[key];
  }
  return out as unknown as GlobalOptions;
}
