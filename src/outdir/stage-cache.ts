// Skip-if-unchanged, one way for every stage: a stage names its inputs (each a digest or a
// short value), their key decides whether its last result still stands, and the inputs that
// differ say why it runs again. Records live in --out's state file (state.ts).
import { createHash } from "node:crypto";
import { readState, updateState, type StageRecord } from "./state.js";

export type StageInputs = Readonly<Record<string, string>>;

/** The one digest recipe for keys and inputs: sha256 of the value's JSON. */
export const digestOf = (value: unknown): string => createHash("sha256").update(JSON.stringify(value)).digest("hex");

/** The key of a stage's named inputs, whatever order they were named in. */
const stageKey = (inputs: StageInputs): string =>
  digestOf(Object.entries(inputs).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

export interface StageCache {
  /** The last record of `stage` when its inputs had this key; undefined otherwise. */
  lookup<O>(stage: string, inputs: StageInputs): O | undefined;
  /** Every output of the last run of `stage`, whatever its key (to reuse what still holds). */
  previous<O>(stage: string): O | undefined;
  /**
   * Why `stage` runs again: "first build", or each input that changed in words (`say` names
   * them; a name without a word is said as itself).
   */
  why(stage: string, inputs: StageInputs, say: (input: string) => string): string;
  record(stage: string, inputs: StageInputs, outputs: unknown): Promise<void>;
}

/** The stage cache of an output directory. */
export function stageCache(out: string): StageCache {
  const records = readState(out).stages;
  const last = (stage: string): StageRecord | undefined => records[stage];
  return {
    lookup: <O>(stage: string, inputs: StageInputs) =>
      last(stage)?.key === stageKey(inputs) ? (last(stage)!.outputs as O) : undefined,
    previous: <O>(stage: string) => last(stage)?.outputs as O | undefined,
    why(stage, inputs, say) {
      const r = last(stage);
      if (!r) return "first build";
      const names = new Set([...Object.keys(inputs), ...Object.keys(r.inputs)]);
      const changed = [...names].filter((n) => r.inputs[n] !== inputs[n]).map(say);
      return changed.length ? [...new Set(changed)].join("; ") : "its outputs on disk changed";
    },
    async record(stage, inputs, outputs) {
      const record: StageRecord = { key: stageKey(inputs), inputs: { ...inputs }, outputs };
      records[stage] = record;
      await updateState(out, (s) => void (s.stages[stage] = record));
    },
  };
}
