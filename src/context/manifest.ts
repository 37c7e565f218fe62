// A manifest file (or Razor's flags) and the configuration that goes with it: loaded and
// validated, its settings resolved (command line, manifest, environment, defaults), the
// manifest resolved with them.
import type { Config } from "../config/config.js";
import { resolveTcPassword } from "../config/password.js";
import { loadManifest, resolvedInput, type LoadedManifest, type ManifestInput } from "../manifest/input.js";
import type { ManifestSettings } from "../manifest/resolve.js";
import type { TcPassword } from "../overlay/password.js";
import { configOf, type Session } from "./session.js";

export interface ManifestRun {
  input: ManifestInput;
  config: Config;
}

/** The manifest in `loaded`, resolved with this run's configuration; its warnings printed. */
export function manifestRun(s: Session, loaded: LoadedManifest): ManifestRun {
  s.log.diagnostics(loaded.warnings);
  const config = configOf(s, loaded.written);
  return { input: resolvedInput(loaded, manifestSettings(config)), config };
}

/** The settings a manifest is resolved with. */
export const manifestSettings = ({ values: v }: Config): ManifestSettings => ({
  mirror: v.mirror,
  epoch: v.epoch,
  baseUrl: v.baseUrl,
  gemSource: v.gemSource,
});

/** The manifest FILE, loaded, validated and resolved. */
export const manifestFileRun = (s: Session, file: string): ManifestRun => manifestRun(s, loadManifest(file));

/** tc's password for a build of `input`, from where the manifest (or MK_BUNDLE_TC_PASSWD) says. */
export const tcPasswordOf = (s: Session, input: ManifestInput): TcPassword =>
  resolveTcPassword(input.written, input.dir, s.env);
