// The lock stage every building command runs: keep an up-to-date lock (re-verifying its
// downloads), re-resolve a missing or stale one, write it next to the manifest.
import { readFileSync } from "node:fs";
import { MkError } from "../errors.js";
import type { ResolvedManifest } from "../manifest/types.js";
import { writeFileAtomic } from "../io/write-atomic.js";
import type { ResolveContext } from "./context.js";
import { inputsDigest, lockPathFor, portableLock, readLock, renderLock, type Lock } from "./lock-file.js";
import { dirname, resolve } from "node:path";

export type LockStatus = "up to date" | "wrote" | "updated" | "unchanged" | "resolved in memory";

export interface LockStageOptions {
  manifest: ResolvedManifest;
  /** Where the manifest lives; undefined for Razor's flags (the lock then stays in memory). */
  manifestFile?: string;
  update?: boolean;
  frozen?: boolean;
  /** Leave an up-to-date lock's downloads unchecked: the caller fetches them (fetchLocked) only if it needs them. */
  deferDownloads?: boolean;
}

export interface LockResult {
  lock: Lock;
  status: LockStatus;
  lockFile?: string;
}

export async function lockStage(o: LockStageOptions, ctx: ResolveContext): Promise<LockResult> {
  // Resolving and fetching load the network and format code: only when they are needed.
  const resolveLock = async () => (await import("./resolve.js")).resolveLock(o.manifest, ctx);
  if (!o.manifestFile) return { lock: await resolveLock(), status: "resolved in memory" };
  const lockFile = lockPathFor(o.manifestFile);
  const existing = readLock(lockFile);
  // A local extension's directory is an input too: the lock is fresh only if it still packs to the pin.
  const fresh = existing?.inputs === inputsDigest(o.manifest) && (await localsMatch(existing, o.manifest, ctx));
  if (o.frozen && !existing)
    throw new MkError("resolve", `--frozen: the lock file ${lockFile} does not exist`, {
      hint: `run mkbundle lock ${o.manifestFile}`,
    });
  if (o.frozen && !fresh)
    throw new MkError(
      "resolve",
      `--frozen: the lock file ${lockFile} is stale (the manifest changed since it was written)`,
      { hint: `run mkbundle lock ${o.manifestFile}` },
    );
  if (existing && fresh && !o.update) {
    if (!o.deferDownloads) await (await import("./fetch-locked.js")).fetchLocked(existing, o.manifest, ctx);
    return { lock: existing, status: "up to date", lockFile };
  }
  const lock = portableLock(await resolveLock(), dirname(resolve(lockFile)));
  const text = renderLock(lock, o.manifestFile);
  const before = existing ? readFileSync(lockFile, "utf8") : undefined;
  if (before !== text) await writeFileAtomic(lockFile, Buffer.from(text));
  return { lock, status: before === text ? "unchanged" : existing ? "updated" : "wrote", lockFile };
}

async function localsMatch(lock: Lock, m: ResolvedManifest, ctx: ResolveContext): Promise<boolean> {
  if (!m.extensions.local.length) return true;
  const { localExtension } = await import("./local-extensions.js");
  for (const l of m.extensions.local) {
    const pin = lock.extensions.find((e) => e.name === l.name && e.local !== undefined);
    if (!pin || (await localExtension(l, m, ctx)).tcz.sha256 !== pin.sha256) return false;
  }
  return true;
}
