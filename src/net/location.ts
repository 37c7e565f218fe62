// Mirrors and downloads are either http(s) URLs or local paths (a plain path or file://).
import { statSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { MkError } from "../errors.js";

export type Location = { kind: "http"; url: string } | { kind: "file"; path: string };

/** A URL or path as a Location; a relative path is taken from `baseDir` (the manifest's directory or the cwd). */
export function locationOf(mirror: string, baseDir: string): Location {
  if (/^https?:\/\//i.test(mirror)) return { kind: "http", url: mirror.replace(/\/+$/, "") };
  if (/^file:\/\//i.test(mirror)) return { kind: "file", path: fileURLToPath(mirror) };
  return { kind: "file", path: isAbsolute(mirror) ? mirror : resolve(baseDir, mirror) };
}

/**
 * A mirror value classified before anything is fetched: an http(s) URL that parses, a file://
 * URL, or an existing directory. Anything else is a usage error naming the value: a
 * misspelt scheme (htp://), a host:port without one, a URL that does not parse (port
 * 99999), a directory that is not there.
 */
export function mirrorLocation(
  value: string,
  baseDir: string,
  what: string,
  opts: { mustExist?: boolean } = {},
): Location {
  const bad = (problem: string, hint: string) =>
    new MkError("usage", `${what} '${value}' ${problem}`, { hint, file: "mkbundle" });
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(value)?.[1]?.toLowerCase();
  if (scheme === "http" || scheme === "https") {
    try {
      new URL(value);
    } catch {
      throw bad("is not a valid URL", "check the host and the port (1-65535)");
    }
    return locationOf(value, baseDir);
  }
  if (scheme === "file") return locationOf(value, baseDir);
  if (scheme) throw bad(`has the unsupported scheme '${scheme}://'`, "use http://, https://, file:// or a directory");
  if (/^[A-Za-z0-9.-]+:[0-9]+(\/|$)/.test(value))
    throw bad("looks like host:port without a scheme", `did you mean http://${value}?`);
  const l = locationOf(value, baseDir);
  if (l.kind === "file" && opts.mustExist !== false) {
    const st = statSync(l.path, { throwIfNoEntry: false });
    if (!st) throw bad("is not a URL and no such directory exists", `looked for ${l.path}`);
    if (!st.isDirectory()) throw bad("is a file, not a mirror directory", "name the mirror's root directory");
  }
  return l;
}

export function under(root: Location, relPath: string): Location {
  return root.kind === "http"
    ? { kind: "http", url: `${root.url}/${relPath.split("/").map(encodeURIComponent).join("/")}` }
    : { kind: "file", path: join(root.path, ...relPath.split("/")) };
}

/** What messages and the cache index call a location: the URL, or file:// and the path. */
export const describeLocation = (l: Location): string => (l.kind === "http" ? l.url : `file://${l.path}`);
