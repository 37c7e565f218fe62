// Stages called in-process, as the CLI calls them, for tests where spawning the CLI adds
// nothing: a manifest input and a resolve context over a work directory and a mirror.
import type { ResolveContext } from "../../src/lock/context.js";
import { manifestFromFile, type ManifestInput } from "../../src/manifest/input.js";
import { memoryLog } from "../../src/log.js";
import { openStore } from "../../src/store/cas.js";
import { limiter } from "../../src/net/limit.js";
import { locationOf } from "../../src/net/location.js";
import { makeProgress } from "../../src/store/progress.js";

export function stageInput(
  file: string,
  opts: { mirror?: string; env?: Record<string, string | undefined> } = {},
): ManifestInput {
  return manifestFromFile(file, { ...(opts.mirror ? { mirror: opts.mirror } : {}), env: opts.env ?? {} });
}

export function stageContext(
  input: ManifestInput,
  workDir: string,
): ResolveContext & { log: ReturnType<typeof memoryLog> } {
  return {
    fetch: {
      store: openStore(workDir),
      offline: false,
      progress: makeProgress({ quiet: true }),
      limit: limiter(4),
      download: { timeoutMs: 30_000, retries: 2, backoffMs: 50 },
    },
    mirror: locationOf(input.manifest.mirror, process.cwd()),
    baseDir: input.dir,
    log: memoryLog(),
  };
}
