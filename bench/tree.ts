// Benchmark trees: real files copied from /usr/lib, and reading a tree into Entries.
import { cpSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join, relative } from "node:path";
import { typeFromMode, type Entry } from "../src/tree/entry.js";
import { bufferSource } from "../src/io/byte-source.js";

/** Copies files from /usr/lib (each under 8 MiB) until `target` bytes; returns the bytes copied. */
export function buildTree(dir: string, target: number): number {
  let total = 0;
  const visit = (src: string) => {
    for (const name of readdirSync(src).sort()) {
      if (total >= target) return;
      const p = join(src, name);
      const st = lstatSync(p);
      if (st.isDirectory()) visit(p);
      else if (st.isFile() && st.size < 8 * 1024 * 1024) {
        const dst = join(dir, relative("/usr/lib", p));
        mkdirSync(join(dst, ".."), { recursive: true });
        cpSync(p, dst);
        total += st.size;
      }
    }
  };
  visit("/usr/lib");
  return total;
}

export function readTree(root: string): Entry[] {
  const out: Entry[] = [];
  const walk = (rel: string) => {
    const full = join(root, rel);
    const st = lstatSync(full);
    const type = typeFromMode(st.mode)!;
    const e: Entry = {
      path: rel,
      type,
      mode: st.mode & 0o7777,
      uid: st.uid,
      gid: st.gid,
      mtime: Math.floor(st.mtimeMs / 1000),
      size: 0,
    };
    if (type === "file") [e.content, e.size] = [() => bufferSource(readFileSync(full)), st.size];
    if (type === "symlink") e.linkTarget = readlinkSync(full);
    out.push(e);
    if (type === "dir") for (const n of readdirSync(full).sort()) walk(rel ? `${rel}/${n}` : n);
  };
  walk("");
  return out;
}
