// The download cache's commands as the context runs them: the store of this run's
// --work-dir, and for gc the pins of the lock files under the given paths.
import { pinsUnder } from "../lock/pins.js";
import { openStore, type Store } from "../store/cas.js";
import { planGc, type GcPlan } from "../store/maintain.js";
import { configOf, type Session } from "./session.js";

export const cacheStore = (s: Session): Store => openStore(configOf(s).values.workDir);

export function gcPlan(s: Session, paths: readonly string[], o: { all?: boolean }): { store: Store; plan: GcPlan } {
  const store = cacheStore(s);
  const { locks, keep } = pinsUnder(paths);
  return { store, plan: planGc(store, locks, keep, { ...o, paths }) };
}
