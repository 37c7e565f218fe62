// Which files a dev session watches, and noticing when one is saved. Polling the files' size
// and time (every 150 ms) sees every editor's way of saving: in place, or a new file renamed
// over the old one.
import { statSync } from "node:fs";
import { resolve } from "node:path";
import type { ManifestInput } from "../manifest/input.js";

/** The manifest and every file it reads: files[].source, password.file, services[].env_file. */
export function watchedFiles(input: ManifestInput): string[] {
  const m = input.manifest;
  const sources = m.files.flatMap((f) => ("source" in f ? [resolve(input.dir, f.source)] : []));
  const password = m.password && "file" in m.password ? [resolve(input.dir, m.password.file)] : [];
  const envFiles = m.services.flatMap((s) => (s.env_file ? [resolve(input.dir, s.env_file)] : []));
  return [...new Set([...(input.file ? [resolve(input.file)] : []), ...sources, ...password, ...envFiles])];
}

interface Seen {
  mtimeMs: number;
  size: number;
}

const stamp = (path: string): Seen | undefined => {
  const s = statSync(path, { throwIfNoEntry: false });
  return s ? { mtimeMs: s.mtimeMs, size: s.size } : undefined;
};

export interface Watcher {
  /** Replaces the set of files watched (after the manifest changed what it reads). */
  watch(paths: readonly string[]): void;
  stop(): void;
}

/** Calls `changed` with the changed paths and the time of the latest save (ms since 1970). */
export function pollFiles(
  paths: readonly string[],
  changed: (paths: string[], savedAt: number) => void,
  intervalMs = 150,
): Watcher {
  let seen = new Map(paths.map((p) => [p, stamp(p)] as const));
  const timer = setInterval(() => {
    const now = [...seen.keys()].map((p) => [p, stamp(p)] as const);
    const differ = now.filter(([p, s]) => JSON.stringify(s) !== JSON.stringify(seen.get(p)));
    if (!differ.length) return;
    for (const [p, s] of differ) seen.set(p, s);
    changed(
      differ.map(([p]) => p),
      Math.max(...differ.map(([, s]) => s?.mtimeMs ?? Date.now())),
    );
  }, intervalMs);
  return {
    watch(next) {
      seen = new Map(next.map((p) => [p, seen.get(p) ?? stamp(p)] as const));
    },
    stop: () => clearInterval(timer),
  };
}
