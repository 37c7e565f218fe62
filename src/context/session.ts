// What every command starts from: the settings the command line set, the environment (read
// once, config/environment.ts) and the log. From these the context builds the configuration
// and whatever a stage needs; commands only declare options, call one function and print.
import { resolveConfig, type Config } from "../config/config.js";
import type { Env } from "../config/environment.js";
import type { SettingKey } from "../config/settings.js";
import type { Log } from "../log.js";
import type { Manifest } from "../manifest/types.js";

export interface Session {
  /** Settings the command line set explicitly (an option left at its default is not here). */
  cli: Partial<Record<SettingKey, string | number | boolean>>;
  env: Env;
  log: Log;
}

/** The configuration of this run, with the manifest's values when there is one. */
export const configOf = (s: Session, manifest?: Manifest): Config =>
  resolveConfig({ cli: s.cli, env: s.env, ...(manifest ? { manifest } : {}) });
