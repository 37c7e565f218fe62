// Fetching for resolution: failures are collected and reported together at the end (every
// missing file, not the first), --offline misses as one list.
import { byPosition, MkError, problem, type Diagnostic } from "../errors.js";
import { FetchError, OfflineMissError } from "../net/errors.js";
import { fetchToStore, type Expect, type Fetched } from "../store/fetch.js";
import type { Location } from "../net/location.js";
import type { ResolveContext } from "./context.js";

/** Who pinned a file's bytes, for the message when they do not match: the key to update. */
export interface Pin {
  at?: { file: string; line: number; column: number } | undefined;
  hint: string;
}

/** A pin in the lock: the bytes changed since it was written. */
export const LOCK_PIN: Pin = {
  hint: "the lock pins other bytes: the file changed on the mirror (or in the cache) since the lock was written; if that is expected, run mkbundle lock --update and review the diff",
};

export interface Collector {
  /** The fetched file; undefined when the source says it does not exist; null when it failed (reported by finish). */
  get(from: Location, label: string, expect?: Expect, pin?: Pin): Promise<Fetched | undefined | null>;
  /** Throws one MkError with every failure so far plus `more`. */
  finish(more?: (string | Diagnostic)[]): void;
}

export function collector(ctx: ResolveContext): Collector {
  const offline = new Set<string>();
  const failures: (string | Diagnostic)[] = [];
  let code: "fetch" | "verify" = "fetch";
  return {
    async get(from, label, expect = {}, pin) {
      try {
        return await fetchToStore(ctx.fetch, from, label, expect);
      } catch (e) {
        if (e instanceof OfflineMissError) {
          offline.add(e.url);
          return null;
        }
        if (e instanceof FetchError) {
          if (e.code === "verify") code = "verify";
          failures.push(e.code === "verify" && pin ? pinned(e.message, pin) : e.message);
          return null;
        }
        throw e;
      }
    },
    finish(more = []) {
      // In the order of the lists and the manifest (file, line), then those without a place.
      const problems: (string | Diagnostic)[] = [...failures, ...more]
        .map((p, i) => ({ p, i }))
        .sort((a, b) => positionOrder(a.p, b.p) || a.i - b.i)
        .map(({ p }) => p);
      if (offline.size)
        problems.push(
          `--offline: ${offline.size} file${offline.size > 1 ? "s are" : " is"} not in the download cache:\n  ${[...offline].sort().join("\n  ")}`,
        );
      if (problems.length) throw new MkError(more.length && !failures.length ? "resolve" : code, problems);
    },
  };
}

const pinned = (message: string, pin: Pin): Diagnostic =>
  pin.at ? { severity: "error", ...pin.at, path: "", message, hint: pin.hint } : problem("", message, pin.hint);

function positionOrder(a: string | Diagnostic, b: string | Diagnostic): number {
  const placed = (d: string | Diagnostic): d is Diagnostic => typeof d !== "string" && d.line > 0;
  if (placed(a) && placed(b)) return byPosition(a, b);
  return placed(a) ? -1 : placed(b) ? 1 : 0;
}
