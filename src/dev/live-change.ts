// Whether a save can reach the running dev guest without a reboot: the manifest is the same
// apart from its files' contents and modes (the same paths), and the overlay differs only in
// the bytes or modes of files it already had (files: sources, inline contents, env_file, the
// password). Then the changed files are sent, and the services their change concerns are
// restarted: each service whose reload_on globs match a changed path, every service without
// reload_on, and a service whose own command file changed. Anything else reboots, and says why.
import { createHash } from "node:crypto";
import type { ResolvedManifest } from "../manifest/types.js";
import { SERVICES_DIR } from "../tinycore/layout.js";
import { openContent, readContent, type Entry } from "../tree/entry.js";
import { bufferSource } from "../io/byte-source.js";
import { globMatches } from "../tree/prune.js";

/** What a live update compares of one overlay entry, taken when the overlay was built. */
interface Seen {
  entry: Entry;
  /** A file's bytes as they were then (its source may change after). */
  sha256?: string;
  content?: Buffer;
}

export interface ImageState {
  manifest: ResolvedManifest;
  /** The overlay's entries as compiled (before builtins are unpacked into it). */
  entries: ReadonlyMap<string, Seen>;
}

/** The overlay as built now: files' digests taken at once; small files' bytes kept for an update. */
export function imageState(manifest: ResolvedManifest, entries: readonly Entry[]): ImageState {
  return {
    manifest,
    entries: new Map(
      entries.map((e) => {
        if (e.type !== "file") return [e.path, { entry: e }];
        const content = e.size <= MAX_KEPT ? readContent(e) : undefined;
        return [e.path, { entry: e, sha256: content ? sha256(content) : digest(e), ...(content ? { content } : {}) }];
      }),
    ),
  };
}

export type LiveChange = { live: true; changed: Entry[]; restart: string[] } | { live: false; why: string };

/** The manifest as far as a live update cares: files by path only. */
function shape(m: ResolvedManifest): Record<string, unknown> {
  return {
    ...m,
    files: m.files.map((f) => ({ path: f.path, owner: f.owner })).sort((a, b) => (a.path < b.path ? -1 : 1)),
  };
}

/** Files up to this size are held as they were built: what is sent is what was compared. */
const MAX_KEPT = 1024 * 1024;
const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const digest = (e: Entry) => {
  const src = openContent(e);
  const h = createHash("sha256");
  for (let at = 0; at < src.size; at += 1 << 20) h.update(src.read(at, Math.min(1 << 20, src.size - at)));
  return h.digest("hex");
};

const sameFile = (a: Seen, b: Seen) =>
  a.entry.mode === b.entry.mode && a.entry.uid === b.entry.uid && a.entry.gid === b.entry.gid && a.sha256 === b.sha256;

/** The entry as it was built (its bytes in memory when they were kept). */
const asBuilt = (s: Seen): Entry => (s.content ? fileEntryOf(s.entry, s.content) : s.entry);
const fileEntryOf = (e: Entry, content: Buffer): Entry => ({
  ...e,
  size: content.length,
  content: () => bufferSource(content),
});

export function liveChange(prev: ImageState, next: ImageState): LiveChange {
  const [a, b] = [shape(prev.manifest), shape(next.manifest)];
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter(
    (k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]),
  );
  if (keys.length) {
    const files = keys.includes("files") ? filesWhy(prev.manifest, next.manifest) : undefined;
    const rest = keys.filter((k) => k !== "files");
    return {
      live: false,
      why: [...(rest.length ? [`${rest.join(", ")} changed`] : []), ...(files ? [files] : [])].join("; "),
    };
  }
  const changed: Entry[] = [];
  for (const path of new Set([...prev.entries.keys(), ...next.entries.keys()])) {
    const [x, y] = [prev.entries.get(path), next.entries.get(path)];
    if (!x || !y) return { live: false, why: `/${path} is ${x ? "gone from" : "new in"} the image` };
    const [a, b] = [x.entry, y.entry];
    if (a.type !== b.type) return { live: false, why: `/${path} is now a ${b.type}` };
    if (b.type === "file" && !sameFile(x, y)) changed.push(asBuilt(y));
    else if (b.type !== "file" && (a.linkTarget !== b.linkTarget || a.mode !== b.mode))
      return { live: false, why: `/${path} changed (a ${b.type})` };
  }
  const paths = changed.map((e) => e.path);
  const restart = next.manifest.services
    .filter(
      (s) =>
        paths.includes(`${SERVICES_DIR}/${s.name}.run`) ||
        (s.reload_on ? s.reload_on.some((g) => paths.some((p) => globMatches(g, p))) : paths.length > 0),
    )
    .map((s) => s.name);
  return { live: true, changed, restart };
}

function filesWhy(prev: ResolvedManifest, next: ResolvedManifest): string {
  const [was, now] = [new Set(prev.files.map((f) => f.path)), new Set(next.files.map((f) => f.path))];
  const added = [...now].filter((p) => !was.has(p));
  const removed = [...was].filter((p) => !now.has(p));
  const parts = [
    ...(added.length ? [`files: ${added.join(", ")} added`] : []),
    ...(removed.length ? [`files: ${removed.join(", ")} removed`] : []),
  ];
  return parts.length ? parts.join("; ") : "files: an owner changed";
}
