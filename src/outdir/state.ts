// What mkbundle remembers in --out, in one file (.mkbundle-state.json): each stage's record
// (stage-cache.ts) and which bundle was written last (what rebuild-iso uses when none is
// named). Paths in it are relative to --out, so a copied --out stays whole. A damaged or
// foreign file is treated as empty: it costs a rebuild, never a wrong result.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { withFileLock } from "../io/file-lock.js";
import { writeFileAtomic } from "../io/write-atomic.js";

const STATE_FILE = ".mkbundle-state.json";

export interface StageRecord {
  /** The digest of the stage's named inputs. */
  key: string;
  /** Each named input's digest, to say which changed. */
  inputs: Record<string, string>;
  outputs: unknown;
}

export interface OutState {
  stateVersion: 1;
  /** The bundle the last bundle stage wrote (or found unchanged): a file name in --out. */
  lastBundle?: string;
  stages: Record<string, StageRecord>;
}

const empty = (): OutState => ({ stateVersion: 1, stages: {} });

export function readState(out: string): OutState {
  const path = join(out, STATE_FILE);
  if (!existsSync(path)) return empty();
  try {
    const s = JSON.parse(readFileSync(path, "utf8")) as Partial<OutState>;
    if (s.stateVersion !== 1 || !s.stages || typeof s.stages !== "object" || Array.isArray(s.stages)) return empty();
    return {
      stateVersion: 1,
      stages: s.stages,
      ...(typeof s.lastBundle === "string" ? { lastBundle: s.lastBundle } : {}),
    };
  } catch {
    return empty();
  }
}

/**
 * Reads the state, applies `change`, writes it back whole (to a temporary name, then
 * renamed), holding the lock: builds sharing --out never lose each other's records.
 */
export async function updateState(out: string, change: (s: OutState) => void): Promise<void> {
  const path = join(out, STATE_FILE);
  await withFileLock(path, async () => {
    const s = readState(out);
    change(s);
    await writeFileAtomic(path, Buffer.from(JSON.stringify(s, null, 1) + "\n"));
  });
}
