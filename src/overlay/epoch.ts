/** 2020-01-01: the file time when neither SOURCE_DATE_EPOCH nor the manifest's epoch is set. */
export const DEFAULT_EPOCH = 1577836800;

/** SOURCE_DATE_EPOCH, else the manifest's `epoch`, else a fixed epoch: never the clock. */
export function buildEpoch(manifestEpoch: number | undefined, env: Readonly<Record<string, string | undefined>>): number {
  const s = env["SOURCE_DATE_EPOCH"];
  if (s !== undefined && s !== "") {
    if (!/^\d+$/.test(s)) throw new Error(`SOURCE_DATE_EPOCH must be a whole number of seconds, got '${s}'`);
    return Number(s);
  }
  return manifestEpoch ?? DEFAULT_EPOCH;
}
