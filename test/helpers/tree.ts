// A tree with every entry type, made on disk for the oracles (GNU cpio, tar, mksquashfs),
// and summaries that compare a tree on disk with Entries from our readers.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  chownSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import type { Entry } from "../../src/tree/entry.js";
import { readContent } from "../../src/tree/entry.js";

const LONG_NAME = "n".repeat(196) + ".txt"; // a 200-byte name
export const UTF8_NAME = "ünïcødé-文件.txt";
const BIG_SIZE = 4 * 1024 * 1024 + 12345;

/** Deterministic incompressible-ish bytes. */
export function pseudoRandom(size: number, seed = 1): Buffer {
  const out = Buffer.alloc(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

export interface TreeOptions {
  socket?: boolean; // tar cannot store sockets
}

/** Builds the tree under `dir` (must run as root for owners and device nodes). */
export function makeEveryTypeTree(dir: string, opts: TreeOptions = {}): void {
  mkdirSync(dir, { recursive: true });
  const file = (rel: string, data: string | Buffer, mode = 0o644, uid = 0, gid = 0) => {
    const p = join(dir, rel);
    writeFileSync(p, data);
    chownSync(p, uid, gid); // before chmod: chown clears setuid
    chmodSync(p, mode);
  };
  file("empty", "");
  file("one", "1");
  file("three", "abc");
  file("four", "abcd");
  file("five", "abcde");
  file("big.bin", pseudoRandom(BIG_SIZE));
  file("setuid-tool", "#!/bin/sh\n", 0o4755);
  file("owned", "mine\n", 0o640, 1000, 50);
  file(LONG_NAME, "long\n");
  file(UTF8_NAME, "utf-8 name\n");
  mkdirSync(join(dir, "tmp"));
  chmodSync(join(dir, "tmp"), 0o1777);
  mkdirSync(join(dir, "sub/deeper"), { recursive: true });
  chownSync(join(dir, "sub"), 1000, 50);
  file("sub/deeper/nested.txt", "nested\n", 0o600);
  mkdirSync(join(dir, "emptydir"));
  symlinkSync("one", join(dir, "link-rel"));
  symlinkSync("/etc/hostname", join(dir, "link-abs"));
  symlinkSync("../../outside", join(dir, "sub/link-up"));
  execFileSync("mknod", ["-m", "0666", join(dir, "null"), "c", "1", "3"]);
  execFileSync("mknod", ["-m", "0660", join(dir, "loop0"), "b", "7", "0"]);
  execFileSync("mknod", ["-m", "0640", join(dir, "bigdev"), "c", "300", "70000"]);
  execFileSync("mkfifo", ["-m", "0644", join(dir, "fifo")]);
  if (opts.socket)
    execFileSync("python3", [
      "-c",
      `import socket; s=socket.socket(socket.AF_UNIX); s.bind(${JSON.stringify(join(dir, "sock"))})`,
    ]);
  file("hl-a", "hard\n");
  linkSync(join(dir, "hl-a"), join(dir, "hl-b"));
  linkSync(join(dir, "hl-a"), join(dir, "sub/hl-c"));
  // Fixed times, deepest first so that directory times stick.
  const paths = walk(dir).reverse();
  paths.forEach((rel, i) => lutimesSync(join(dir, rel), 1600000000 + i, 1600000000 + i));
}

/** Paths under dir, parents before children, sorted; "" is dir itself. */
function walk(dir: string, rel = ""): string[] {
  const out = [rel];
  const st = lstatSync(join(dir, rel));
  if (st.isDirectory())
    for (const n of readdirSync(join(dir, rel)).sort()) out.push(...walk(dir, rel ? `${rel}/${n}` : n));
  return out;
}

export interface Summary {
  path: string;
  type: string;
  mode: string;
  uid: number;
  gid: number;
  size?: number;
  sha256?: string;
  target?: string;
  rdev?: string;
  links?: string;
  mtime?: number;
}

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const oct = (m: number) => (m & 0o7777).toString(8).padStart(4, "0");

export function summarizeDisk(dir: string, opts: { mtime?: boolean; root?: boolean } = {}): Summary[] {
  const byIno = new Map<number, string[]>();
  const all = walk(dir).filter((p) => opts.root || p !== "");
  for (const p of all) {
    const st = lstatSync(join(dir, p));
    if (st.isFile() && st.nlink > 1) byIno.set(st.ino, [...(byIno.get(st.ino) ?? []), p]);
  }
  return all.map((p) => {
    const full = join(dir, p);
    const st = lstatSync(full);
    const type = st.isFile()
      ? "file"
      : st.isDirectory()
        ? "dir"
        : st.isSymbolicLink()
          ? "symlink"
          : st.isCharacterDevice()
            ? "char"
            : st.isBlockDevice()
              ? "block"
              : st.isFIFO()
                ? "fifo"
                : "socket";
    const s: Summary = { path: p, type, mode: oct(st.mode), uid: st.uid, gid: st.gid };
    if (type === "file") [s.size, s.sha256] = [st.size, sha(readFileSync(full))];
    if (type === "symlink") s.target = readlinkSync(full);
    if (type === "char" || type === "block")
      s.rdev = `${Math.floor(Number(st.rdev) / 256) & 0xfff},${(Number(st.rdev) & 0xff) | ((Number(st.rdev) >> 12) & 0xfff00)}`;
    const group = st.isFile() ? byIno.get(st.ino) : undefined;
    if (group) s.links = [...group].sort().join(" ");
    if (opts.mtime && type !== "symlink") s.mtime = Math.floor(st.mtimeMs / 1000);
    return s;
  });
}

export async function summarizeEntries(
  entries: readonly Entry[],
  opts: { mtime?: boolean; root?: boolean } = {},
): Promise<Summary[]> {
  const byPath = new Map(entries.map((e) => [e.path, e]));
  const groups = new Map<string, string[]>();
  for (const e of entries)
    if (e.type === "hardlink") groups.set(e.linkTarget!, [...(groups.get(e.linkTarget!) ?? [e.linkTarget!]), e.path]);
  const out: Summary[] = [];
  for (const e of entries) {
    if (!opts.root && e.path === "") continue;
    const real = e.type === "hardlink" ? byPath.get(e.linkTarget!)! : e;
    const s: Summary = { path: e.path, type: real.type, mode: oct(e.mode), uid: e.uid, gid: e.gid };
    if (real.type === "file") {
      const data = readContent(real);
      [s.size, s.sha256] = [data.length, sha(data)];
    }
    if (e.type === "symlink") s.target = e.linkTarget!;
    if (e.type === "char" || e.type === "block") s.rdev = `${e.rdevMajor},${e.rdevMinor}`;
    const group = groups.get(e.type === "hardlink" ? e.linkTarget! : e.path);
    if (group) s.links = [...group].sort().join(" ");
    if (opts.mtime && e.type !== "symlink") s.mtime = e.mtime;
    out.push(s);
  }
  return out.sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
}
