// `mkbundle clean` as the context runs it: the plan for this run's --out, and its removal.
import { planClean, runClean, type CleanPlan } from "../outdir/clean.js";
import { configOf, type Session } from "./session.js";

export function cleanPlan(s: Session): { out: string; plan: CleanPlan } {
  const out = configOf(s).values.out;
  return { out, plan: planClean(out) };
}

export const removeStale = (out: string, plan: CleanPlan): Promise<void> => runClean(out, plan);
