// What one opened container may cost, whatever its headers claim: a hostile file is
// refused with a clear error long before it can take the machine's memory or time.
// Generous for real images (a 1 GiB initrd, an ISO of 100,000 files); settable with
// MKBUNDLE_MAX_ENTRIES and MKBUNDLE_MAX_BYTES.

export interface ReadLimits {
  /** Entries listed from one container. */
  entries: number;
  /** Bytes one container's files may hold, and one gzip stream may expand to. */
  bytes: number;
}

/** Every reader's default. Set once at startup from the environment (applyLimitsFromEnv), never after. */
export const DEFAULT_LIMITS: ReadLimits = { entries: 1_000_000, bytes: 4 * 1024 ** 3 };

const UNITS: Record<string, number> = { "": 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/** "4G", "512M", "1000000": a positive whole number with an optional binary unit; undefined if not one. */
function parseSize(text: string): number | undefined {
  const m = /^\s*(\d{1,15})\s*([KMGT]?)i?B?\s*$/i.exec(text);
  if (!m) return undefined;
  const n = Number(m[1]) * UNITS[m[2]!.toUpperCase()]!;
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

/** Applies MKBUNDLE_MAX_ENTRIES / MKBUNDLE_MAX_BYTES; returns the problem with a value, if any. */
export function applyLimitsFromEnv(env: Readonly<Record<string, string | undefined>>): string | undefined {
  const entries = env["MKBUNDLE_MAX_ENTRIES"];
  const bytes = env["MKBUNDLE_MAX_BYTES"];
  const e = entries ? parseSize(entries) : DEFAULT_LIMITS.entries;
  const b = bytes ? parseSize(bytes) : DEFAULT_LIMITS.bytes;
  if (e === undefined) return `MKBUNDLE_MAX_ENTRIES '${entries}' is not a positive whole number`;
  if (b === undefined)
    return `MKBUNDLE_MAX_BYTES '${bytes}' is not a size (a whole number of bytes, or with K, M, G or T)`;
  DEFAULT_LIMITS.entries = e;
  DEFAULT_LIMITS.bytes = b;
  return undefined;
}
