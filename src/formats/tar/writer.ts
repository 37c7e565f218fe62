// tar writer: ustar headers (header.ts), names that do not fit in a pax header, owners as
// numbers without user or group names, file data streamed from each entry's content. Fields
// that do not fit are an error, never clamped.
import { FormatError } from "../../errors.js";
import { contentChunks, printable, type Entry } from "../../tree/entry.js";
import { hardLinkGroups } from "../../tree/hard-links.js";
import { encodeHeader, encodePaxEntry, MAX_OCTAL_ID, MAX_OCTAL_TIME, padding, type TarHeader } from "./header.js";

const TYPEFLAG: Partial<Record<Entry["type"], string>> = {
  file: "0",
  hardlink: "1",
  symlink: "2",
  char: "3",
  block: "4",
  dir: "5",
  fifo: "6",
};

const END = Buffer.alloc(1024);

/**
 * Hard links in archive order: the group's first member carries the data (with its own
 * metadata) and the others link to it, because extractors need a link's target to exist first.
 */
function linksFirstCarryData(entries: readonly Entry[]): Entry[] {
  const groups = hardLinkGroups(entries, "tar");
  return entries.map((e) => {
    const g = groups.get(e.path);
    if (!g) return e;
    const { content: _content, linkTarget: _link, ...meta } = e;
    const head = g.members[0]!;
    return e === head
      ? { ...meta, type: "file", size: g.file.size, ...(g.file.content ? { content: g.file.content } : {}) }
      : { ...meta, type: "hardlink", size: 0, linkTarget: head.path };
  });
}

function headerOf(e: Entry): TarHeader {
  const typeflag = TYPEFLAG[e.type];
  if (!typeflag) throw new FormatError("tar", `'${printable(e.path)}': ${e.type} entries cannot be stored in tar`);
  for (const [name, v, max] of [
    ["uid", e.uid, MAX_OCTAL_ID],
    ["gid", e.gid, MAX_OCTAL_ID],
    ["mtime", e.mtime, MAX_OCTAL_TIME],
  ] as const) {
    if (!Number.isInteger(v) || v < 0 || v > max)
      throw new FormatError("tar", `'${printable(e.path)}': ${name} ${v} does not fit a tar header (0..${max})`);
  }
  return {
    name: e.path === "" ? "./" : e.type === "dir" ? `${e.path}/` : e.path,
    mode: e.mode & 0o7777,
    uid: e.uid,
    gid: e.gid,
    size: e.type === "file" ? e.size : 0,
    mtime: e.mtime,
    typeflag,
    linkname: e.type === "symlink" || e.type === "hardlink" ? (e.linkTarget ?? "") : "",
    devmajor: e.rdevMajor ?? 0,
    devminor: e.rdevMinor ?? 0,
  };
}

/** The archive in the entries' order (tree/reproducible.ts gives the canonical one), data streamed through. */
export async function* writeTar(input: Iterable<Entry> | AsyncIterable<Entry>): AsyncGenerator<Buffer> {
  const list: Entry[] = [];
  for await (const e of input) list.push(e);
  for (const e of linksFirstCarryData(list)) {
    const h = headerOf(e);
    const block = encodeHeader(h);
    if (block) yield block;
    else yield* encodePaxEntry(h);
    if (h.size === 0) continue;
    let got = 0;
    for await (const c of contentChunks(e)) {
      got += c.length;
      if (got > h.size) break;
      yield c;
    }
    if (got !== h.size)
      throw new FormatError("tar", `'${printable(e.path)}' holds ${got} bytes, its entry says ${h.size}`);
    const pad = padding(h.size);
    if (pad) yield Buffer.alloc(pad);
  }
  yield END;
}

/** The whole archive in memory (small archives and tests). */
export async function tarBytes(input: Iterable<Entry> | AsyncIterable<Entry>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of writeTar(input)) chunks.push(c);
  return Buffer.concat(chunks);
}
