// Options of every command that downloads, and the fetch context they build.
import { InvalidArgumentError, Option, type Command } from "commander";
import { openStore } from "../store/cas.js";
import type { FetchContext } from "../store/fetch.js";
import { limiter } from "../store/limit.js";
import { makeProgress } from "../store/progress.js";
import type { GlobalOptions } from "./output.js";

export interface FetchOptions {
  offline?: boolean;
  jobs: number;
  timeout: number;
}

const positive = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a whole number of at least 1`);
  return n;
};

export function addFetchOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option("--offline", "use only the download cache; fail naming every file it lacks"))
    .addOption(new Option("-j, --jobs <n>", "parallel downloads").default(4).argParser(positive("--jobs")))
    .addOption(new Option("--timeout <seconds>", "per-request timeout").default(60).argParser(positive("--timeout")));
}

export function fetchContext(opts: FetchOptions & GlobalOptions): FetchContext {
  return {
    store: openStore(opts.workDir),
    offline: opts.offline === true,
    progress: makeProgress({ ...(opts.quiet ? { quiet: true } : {}) }),
    limit: limiter(opts.jobs),
    download: { timeoutMs: opts.timeout * 1000, retries: 4, backoffMs: 250 },
  };
}
