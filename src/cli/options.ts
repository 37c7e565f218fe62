// Options shared by commands, their parsers, and the contexts they build.
import { InvalidArgumentError, Option, type Command } from "commander";
import { SETTINGS, type SettingKey } from "../config/settings.js";
import type { Verbosity } from "../context/resolve.js";
import { configOf, type Session } from "../context/session.js";
import { ioOf, type CliIo } from "./io.js";
import { makeLog, printTo, type GlobalOptions } from "./output.js";

export interface FetchOptions {
  offline?: boolean;
  jobs: number;
  downloadTimeout: number;
  cacheRegistry?: string;
  plainHttp?: boolean;
}

type Place = "mirror" | "work-dir" | "out";

/**
 * Every command takes these, before or after its own arguments; those in `unused` are still
 * accepted (a shared command line stays valid) but not shown in the command's --help.
 */
export function addGlobalOptions(cmd: Command, unused: readonly Place[] = []): Command {
  const shown = (o: Option, name: Place) => (unused.includes(name) ? o.hideHelp() : o);
  return cmd
    .addOption(
      shown(
        new Option(
          "--mirror <url|dir>",
          "Tiny Core mirror: http(s) URL, file:// URL or local directory (beats the manifest's mirror:)",
        ),
        "mirror",
      ),
    )
    .addOption(
      shown(
        new Option("--work-dir <dir>", "work directory and download cache").default(SETTINGS.workDir.default),
        "work-dir",
      ),
    )
    .addOption(shown(new Option("--out <dir>", "output directory").default(SETTINGS.out.default), "out"))
    .addOption(new Option("-q, --quiet", "print only errors and results").conflicts("verbose"))
    .addOption(new Option("-v, --verbose", "print more about each step"));
}

export const wholeNumber =
  (name: string, min = 1) =>
  (v: string) => {
    const n = Number(v);
    if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < min)
      throw new InvalidArgumentError(`${name} must be a whole number of at least ${min}`);
    return n;
  };

export function addFetchOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option("--offline", "use only the download cache; fail naming every file it lacks"))
    .addOption(
      new Option("-j, --jobs <n>", "parallel downloads")
        .default(SETTINGS.jobs.default)
        .argParser(wholeNumber("--jobs")),
    )
    .addOption(
      new Option("--download-timeout <seconds>", "the longest one download may take, retries included")
        .default(SETTINGS.downloadTimeout.default)
        .argParser(wholeNumber("--download-timeout")),
    )
    .addOption(
      new Option(
        "--cache-registry <ref>",
        "share the download cache through an OCI registry repository, e.g. registry.example:5000/mkbundle/cache (env MKBUNDLE_CACHE_REGISTRY)",
      ),
    )
    .addOption(registryPlainHttpOption());
}

/** Registries speak HTTPS; a loopback test registry may not. */
export const registryPlainHttpOption = () =>
  new Option(
    "--plain-http",
    "talk to the registry over plain HTTP (a local test registry; env MKBUNDLE_REGISTRY_PLAIN_HTTP=1)",
  );

/**
 * The command's options merged with its parents', an explicit value winning over a default
 * wherever it was given (commander's optsWithGlobals lets a parent's default win).
 */
export function globalsOf<T = GlobalOptions>(cmd: Command): T & GlobalOptions {
  const chain: Command[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) chain.push(c);
  const out: Record<string, unknown> = {};
  for (const key of new Set(chain.flatMap((c) => Object.keys(c.opts())))) {
    const given = chain.filter((c) => c.opts()[key] !== undefined);
    const pick = given.find((c) => c.getOptionValueSource(key) !== "default") ?? given[0];
    out[key] = pick?.opts()[key];
  }
  return out as T & GlobalOptions;
}

/** Settings the command line can set (config/settings.ts), by the option's attribute name. */
const SETTING_OPTIONS: readonly SettingKey[] = [
  "mirror",
  "workDir",
  "out",
  "offline",
  "jobs",
  "downloadTimeout",
  "cacheRegistry",
  "plainHttp",
  "accel",
];

export type CliSession = Session & {
  verbosity: Verbosity;
  /** A result line on this run's standard output. */
  print: (s: string) => void;
  io: CliIo;
};

/** The run's session: the settings this command line set explicitly, the environment, the log. */
export function sessionOf(cmd: Command): CliSession {
  const chain: Command[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) chain.push(c);
  const cli: Session["cli"] = {};
  for (const key of SETTING_OPTIONS) {
    const given = chain.find((c) => c.opts()[key] !== undefined && c.getOptionValueSource(key) === "cli");
    if (given) cli[key] = given.opts()[key] as string | number | boolean;
  }
  const { quiet, verbose } = globalsOf(cmd);
  const io = ioOf(cmd);
  const verbosity: Verbosity = {
    ...(quiet ? { quiet: true } : {}),
    ...(verbose ? { verbose: true } : {}),
    stream: io.err,
  };
  const session = { cli, env: io.env, log: makeLog(verbosity, io.err), verbosity, print: printTo(io.out), io };
  configOf(session); // every setting is checked once, whatever the command: a bad one stops it here
  return session;
}
