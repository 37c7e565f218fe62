// A directory on disk as the Entries of an extension: walked without following a link (a
// symlink is stored as a symlink, so nothing outside the directory can come in through one),
// every file read as the very file that was found (io/inside-file.ts: one swapped, grown or
// shrunk meanwhile is refused), owned by root, dated by the epoch. A FIFO, socket or device
// node is refused: Tiny Core extensions carry files, directories and links.
import { lstatSync, readdirSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { MkError, errnoReason } from "../errors.js";
import { insideFileSource } from "../io/inside-file.js";
import type { Entry } from "../tree/entry.js";
import { printable } from "../tree/entry.js";
import { followLinks } from "../tree/links.js";

/** The most entries one source directory may hold (a runaway tree is an error, not a huge image). */
const MAX_ENTRIES = 1_000_000;

export function sourceTree(dir: string, epoch: number): Entry[] {
  const out: Entry[] = [{ path: "", type: "dir", mode: 0o755, uid: 0, gid: 0, mtime: epoch, size: 0 }];
  const refuse = (path: string, why: string) => new MkError("input", `${join(dir, path)}: ${why}`);
  const walk = (rel: string) => {
    let names: string[];
    try {
      names = readdirSync(join(dir, rel)).sort();
    } catch (e) {
      throw refuse(rel, `cannot be read (${errnoReason(e)})`);
    }
    for (const name of names) {
      const path = rel ? `${rel}/${name}` : name;
      if (/[\x00-\x1f\x7f]/.test(name)) throw refuse(path, `the name '${printable(name)}' holds a control character`);
      if (out.length >= MAX_ENTRIES) throw refuse("", `more than ${MAX_ENTRIES} entries`);
      const st = lstatSync(join(dir, path));
      const mode = st.mode & 0o7777;
      const base = { path, mode, uid: 0, gid: 0, mtime: epoch };
      if (st.isDirectory()) {
        out.push({ ...base, type: "dir", size: 0 });
        walk(path);
      } else if (st.isSymbolicLink()) {
        out.push({ ...base, type: "symlink", mode: 0o777, size: 0, linkTarget: readlinkSync(join(dir, path)) });
      } else if (st.isFile()) {
        const src = insideFileSource(dir, path);
        out.push({ ...base, type: "file", size: src.size, content: () => src });
      } else {
        throw refuse(path, "is a FIFO, socket or device node: an extension holds files, directories and links");
      }
    }
  };
  walk("");
  checkLinks(out, refuse);
  return out;
}

/**
 * A relative link must stay inside the extension (Tiny Core links the extension's files
 * into /, where "../../etc/shadow" would mean something else), and no link may lead back to
 * itself. Absolute targets (/usr/local/lib/...) are what extensions use, and are kept.
 */
function checkLinks(entries: readonly Entry[], refuse: (path: string, why: string) => MkError): void {
  const byPath = new Map(entries.map((e) => [e.path, e]));
  for (const e of entries) {
    if (e.type !== "symlink") continue;
    const target = e.linkTarget ?? "";
    if (!target.startsWith("/")) {
      let depth = e.path.split("/").length - 1;
      for (const part of target.split("/")) {
        if (part === "..") depth--;
        else if (part && part !== ".") depth++;
        if (depth < 0) throw refuse(e.path, `its link target '${printable(target)}' leads outside the directory`);
      }
    }
    if ("loop" in followLinks((p) => byPath.get(p), e.path))
      throw refuse(e.path, `is a symbolic link that loops ('${printable(target)}')`);
  }
}
