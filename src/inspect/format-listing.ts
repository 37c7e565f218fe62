// `ls -l`-like lines and the --json records of `mkbundle ls`.
import { escapeControls } from "../errors.js";
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

/** A listed entry; `sizes` gives a hard link's file (an Entry, or just its size). */
export function toListed(e: Entry, sizes: ReadonlyMap<string, Entry | number>): ListedEntry {
  const type = e.type === "hardlink" ? "file" : e.type;
  // As ls -l: a hard link has its file's size, a symlink the length of its target.
  const size =
    e.type === "hardlink"
      ? sizeOf(sizes.get(e.linkTarget ?? ""))
      : e.type === "symlink"
        ? Buffer.byteLength(e.linkTarget ?? "")
        : e.size;
  const l: ListedEntry = {
    path: e.path === "" ? "." : e.path,
    type,
    mode: e.mode & 0o7777,
    uid: e.uid,
    gid: e.gid,
    size,
    mtime: e.mtime,
  };
  if (e.type === "symlink") l.target = e.linkTarget ?? "";
  if (e.type === "char" || e.type === "block") [l.major, l.minor] = [e.rdevMajor ?? 0, e.rdevMinor ?? 0];
  return l;
}

const sizeOf = (x: Entry | number | undefined): number => (typeof x === "number" ? x : (x?.size ?? 0));

/** Mode strings already made, by type and mode: an archive has a handful. */
const modeStrings = new Map<string, string>();
const modeText = (type: ListedEntry["type"], mode: number): string => {
  const key = `${type}${mode}`;
  let text = modeStrings.get(key);
  if (text === undefined) modeStrings.set(key, (text = modeString(type, mode)));
  return text;
};

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

/** The last time formatted: the entries of an archive mostly share one. */
let lastTime: { mtime: number; text: string } = { mtime: NaN, text: "" };
const timeText = (mtime: number): string => {
  if (mtime !== lastTime.mtime)
    lastTime = { mtime, text: new Date(mtime * 1000).toISOString().slice(0, 16).replace("T", " ") };
  return lastTime.text;
};

export function formatLine(l: ListedEntry): string {
  const size = l.type === "char" || l.type === "block" ? `${l.major},${l.minor}` : String(l.size);
  const time = timeText(l.mtime);
  return `${modeText(l.type, l.mode)} ${String(l.uid).padStart(5)} ${String(l.gid).padStart(5)} ${size.padStart(10)} ${time} ${escapeControls(l.path)}${l.type === "symlink" ? ` -> ${escapeControls(l.target ?? "")}` : ""}`;
}
