// Paths followed inside an image or a container, as the kernel would follow them there:
// symlinks (absolute from the image's root, relative from the link's directory, never above
// the root), symlinked parent directories, and hard links to their file. `ls`/`cat` and the
// prod audit look files up this one way.
import type { Entry } from "./entry.js";

const MAX_HOPS = 40;

export type Followed =
  | { found: Entry }
  /** Nothing at `path` (a link may point at it). */
  | { missing: string }
  | { hardLinkTo: string }
  | { loop: true };

const ROOT: Entry = { path: "", type: "dir", mode: 0o755, uid: 0, gid: 0, mtime: 0, size: 0 };

/** The entry `path` names, links followed; a hard link comes back as its file under the link's path. */
export function followLinks(get: (path: string) => Entry | undefined, path: string): Followed {
  for (let hops = 0; hops <= MAX_HOPS; hops++) {
    const e = get(path) ?? (path === "" ? ROOT : viaParentLinks(get, path));
    if (!e) return { missing: path };
    if (e.type === "hardlink") {
      const target = get(e.linkTarget ?? "");
      if (!target || target.type !== "file") return { hardLinkTo: e.linkTarget ?? "" };
      return { found: { ...target, path: e.path } };
    }
    if (e.type !== "symlink") return { found: e };
    path = resolveLink(e.path, e.linkTarget ?? "");
  }
  return { loop: true };
}

/** Resolves symlinked parent directories: usr/lib -> usr/lib32 makes usr/lib/x findable. */
function viaParentLinks(get: (path: string) => Entry | undefined, path: string): Entry | undefined {
  const parts = path.split("/");
  for (let i = parts.length - 1; i > 0; i--) {
    const parent = get(parts.slice(0, i).join("/"));
    if (parent?.type === "symlink")
      return get(resolveLink(parent.path, parent.linkTarget ?? "") + "/" + parts.slice(i).join("/"));
  }
  return undefined;
}

/** A link target resolved inside the image: absolute from its root, relative from the link's directory; never above the root. */
function resolveLink(linkPath: string, target: string): string {
  const base = target.startsWith("/") ? [] : linkPath.split("/").slice(0, -1);
  for (const part of target.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") base.pop();
    else base.push(part);
  }
  return base.join("/");
}

/**
 * The symlink among `path`'s parent directories, if any: a file put there would be written
 * wherever the link points (another extension's files, /etc).
 */
export function symlinkAbove(path: string, has: (p: string) => Entry | undefined): string | undefined {
  const parts = path.split("/");
  for (let i = 1; i < parts.length; i++) {
    const parent = parts.slice(0, i).join("/");
    if (has(parent)?.type === "symlink") return parent;
  }
  return undefined;
}
