// `ls -l`-like lines and the --json records of `mkbundle ls`.
import type { Entry } from "../tree/entry.js";

export interface ListedEntry {
  path: string;
  type: "file" | "dir" | "symlink" | "char" | "block" | "fifo" | "socket";
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  target?: string;
  major?: number;
  minor?: number;
}

const TYPE_CHAR: Record<ListedEntry["type"], string> = {
  file: "-",
  dir: "d",
  symlink: "l",
  char: "c",
  block: "b",
  fifo: "p",
  socket: "s",
};

export function toListed(e: Entry, byPath: ReadonlyMap<string, Entry>): ListedEntry {
  const type = e.type === "hardlink" ? "file" : e.type;
  // As ls -l: a hard link has its file's size, a symlink the length of its target.
  const size =
    e.type === "hardlink"
      ? (byPath.get(e.linkTarget ?? "")?.size ?? 0)
      : e.type === "symlink"
        ? Buffer.byteLength(e.linkTarget ?? "")
        : e.size;
  return {
    path: e.path === "" ? "." : e.path,
    type,
    mode: e.mode & 0o7777,
    uid: e.uid,
    gid: e.gid,
    size,
    mtime: e.mtime,
    ...(e.type === "symlink" ? { target: e.linkTarget ?? "" } : {}),
    ...(e.type === "char" || e.type === "block" ? { major: e.rdevMajor ?? 0, minor: e.rdevMinor ?? 0 } : {}),
  };
}

function modeString(type: ListedEntry["type"], mode: number): string {
  const bit = (m: number, c: string) => (mode & m ? c : "-");
  const exec = (x: number, special: number, set: string, unset: string) =>
    mode & special ? (mode & x ? set : unset) : mode & x ? "x" : "-";
  return (
    TYPE_CHAR[type] +
    bit(0o400, "r") +
    bit(0o200, "w") +
    exec(0o100, 0o4000, "s", "S") +
    bit(0o040, "r") +
    bit(0o020, "w") +
    exec(0o010, 0o2000, "s", "S") +
    bit(0o004, "r") +
    bit(0o002, "w") +
    exec(0o001, 0o1000, "t", "T")
  );
}

export function formatLine(l: ListedEntry): string {
  const size = l.type === "char" || l.type === "block" ? `${l.major},${l.minor}` : String(l.size);
  const time = new Date(l.mtime * 1000).toISOString().slice(0, 16).replace("T", " ");
  return `${modeString(l.type, l.mode)} ${String(l.uid).padStart(5)} ${String(l.gid).padStart(5)} ${size.padStart(10)} ${time} ${l.path}${l.type === "symlink" ? ` -> ${l.target}` : ""}`;
}
