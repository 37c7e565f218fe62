// Razor's flags (-b -m -p -d -t -c) as a run: the in-memory manifest they make, checked like a
// manifest file, and the configuration with their MK_BUNDLE_* settings in the environment's
// place (command line > -c file > environment, Razor's order).
import { razorManifest, type RazorFlags } from "../manifest/razor-flags.js";
import { manifestRun, type ManifestRun } from "./manifest.js";
import type { Session } from "./session.js";

export function razorRun(s: Session, flags: RazorFlags): ManifestRun & { session: Session } {
  const { loaded, settings } = razorManifest(flags, s.env, process.cwd());
  const session: Session = { ...s, env: Object.freeze({ ...s.env, ...settings }) };
  return { ...manifestRun(session, loaded), session };
}
