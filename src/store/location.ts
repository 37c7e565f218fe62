// Mirrors and downloads are either http(s) URLs or local paths (a plain path or file://).
import { isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export type Location = { kind: "http"; url: string } | { kind: "file"; path: string };

/** A URL or path as a Location; a relative path is taken from `baseDir` (the manifest's directory or the cwd). */
export function locationOf(mirror: string, baseDir: string): Location {
  if (/^https?:\/\//i.test(mirror)) return { kind: "http", url: mirror.replace(/\/+$/, "") };
  if (/^file:\/\//i.test(mirror)) return { kind: "file", path: fileURLToPath(mirror) };
  return { kind: "file", path: isAbsolute(mirror) ? mirror : resolve(baseDir, mirror) };
}

export function under(root: Location, relPath: string): Location {
  return root.kind === "http"
    ? { kind: "http", url: `${root.url}/${relPath.split("/").map(encodeURIComponent).join("/")}` }
    : { kind: "file", path: join(root.path, ...relPath.split("/")) };
}

/** What messages and the cache index call a location: the URL, or file:// and the path. */
export const describeLocation = (l: Location): string => (l.kind === "http" ? l.url : `file://${l.path}`);
