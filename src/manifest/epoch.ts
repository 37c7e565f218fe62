// The build's time: SOURCE_DATE_EPOCH, else the manifest's epoch, else a fixed date. Never
// the clock. Read here and only here.
import { usageError } from "../errors.js";

/** 2020-01-01: the file time when neither SOURCE_DATE_EPOCH nor the manifest's epoch is set. */
const DEFAULT_EPOCH = 1577836800;
/** Every output format stores times in 32 bits (newc), or less. */
const MAX_EPOCH = 2 ** 32 - 1;

export type Env = Readonly<Record<string, string | undefined>>;

/** SOURCE_DATE_EPOCH when set; a value that is not whole seconds in 0..2^32-1 is a usage error. */
export function sourceDateEpoch(env: Env): number | undefined {
  const s = env["SOURCE_DATE_EPOCH"];
  if (s === undefined || s === "") return undefined;
  if (!/^\d{1,10}$/.test(s) || Number(s) > MAX_EPOCH) {
    throw usageError(
      `SOURCE_DATE_EPOCH='${s.slice(0, 40)}' is not a time mkbundle can use`,
      `whole seconds since 1970, 0 to ${MAX_EPOCH}, e.g. SOURCE_DATE_EPOCH=$(git log -1 --format=%ct)`,
      "SOURCE_DATE_EPOCH",
    );
  }
  return Number(s);
}

export interface BuildEpoch {
  value: number;
  source: "SOURCE_DATE_EPOCH" | "manifest" | "default";
}

export function buildEpoch(manifestEpoch: number | undefined, env: Env): BuildEpoch {
  const sde = sourceDateEpoch(env);
  if (sde !== undefined) return { value: sde, source: "SOURCE_DATE_EPOCH" };
  return manifestEpoch !== undefined
    ? { value: manifestEpoch, source: "manifest" }
    : { value: DEFAULT_EPOCH, source: "default" };
}
