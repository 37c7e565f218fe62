// Stages called in-process through the same context the CLI uses (src/context/): a session
// with the settings a command line would give, a manifest run, a resolve context. For tests
// where spawning the CLI adds nothing.
import type { Env } from "../../src/config/environment.js";
import type { SettingKey } from "../../src/config/settings.js";
import { manifestFileRun, type ManifestRun } from "../../src/context/manifest.js";
import type { Verbosity } from "../../src/context/resolve.js";
import type { Session } from "../../src/context/session.js";
import { memoryLog } from "../../src/log.js";

export type TestSession = Session & { verbosity: Verbosity; log: ReturnType<typeof memoryLog> };

/** A session as `mkbundle --mirror M --work-dir W --out O` would start, with `env` as the whole environment. */
export function testSession(
  cli: Partial<Record<SettingKey, string | number | boolean>> = {},
  env: Env = {},
): TestSession {
  return { cli, env: Object.freeze({ ...env }), log: memoryLog(), verbosity: { quiet: true } };
}

export const stageRun = (s: Session, file: string): ManifestRun => manifestFileRun(s, file);
