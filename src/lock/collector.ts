// Fetching for resolution: failures are collected and reported together at the end (every
// missing file, not the first), --offline misses as one list.
import { MkError, type Diagnostic } from "../errors.js";
import { FetchError, OfflineMissError } from "../net/errors.js";
import { fetchToStore, type Expect, type Fetched } from "../store/fetch.js";
import type { Location } from "../net/location.js";
import type { ResolveContext } from "./context.js";

export interface Collector {
  /** The fetched file; undefined when the source says it does not exist; null when it failed (reported by finish). */
  get(from: Location, label: string, expect?: Expect): Promise<Fetched | undefined | null>;
  /** Throws one MkError with every failure so far plus `more`. */
  finish(more?: (string | Diagnostic)[]): void;
}

export function collector(ctx: ResolveContext): Collector {
  const offline = new Set<string>();
  const failures: string[] = [];
  let code: "fetch" | "verify" = "fetch";
  return {
    async get(from, label, expect = {}) {
      try {
        return await fetchToStore(ctx.fetch, from, label, expect);
      } catch (e) {
        if (e instanceof OfflineMissError) {
          offline.add(e.url);
          return null;
        }
        if (e instanceof FetchError) {
          if (e.code === "verify") code = "verify";
          failures.push(e.message);
          return null;
        }
        throw e;
      }
    },
    finish(more = []) {
      const problems: (string | Diagnostic)[] = [...failures, ...more];
      if (offline.size)
        problems.push(
          `--offline: ${offline.size} file${offline.size > 1 ? "s are" : " is"} not in the download cache:\n  ${[...offline].sort().join("\n  ")}`,
        );
      if (problems.length) throw new MkError(more.length && !failures.length ? "resolve" : code, problems);
    },
  };
}
