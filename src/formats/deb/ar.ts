// A Debian package (.deb): an ar archive of debian-binary, control.tar.* and data.tar.*, and
// its data.tar as a source (gzip, xz or none; zstd is named and refused). ar: "!<arch>\n",
// then per member a 60-byte header (name, mtime, uid, gid, mode, decimal size, "`\n") and
// its data padded to an even offset. Every size is checked against the file.
import { FormatError } from "../../errors.js";
import { sliceSource, type ByteSource } from "../../io/byte-source.js";
import { gunzipSource } from "../gzip/inflate.js";
import type { ReadLimits } from "../limits.js";
import { xzSource } from "../xz/decompress.js";

const MAGIC = "!<arch>\n";
const HEADER = 60;
/** A .deb has three members; a few more are allowed (signatures), not thousands. */
const MAX_MEMBERS = 64;

export const isDeb = (head: Buffer): boolean => head.toString("latin1", 0, 8) === MAGIC;

export function arMembers(src: ByteSource): { name: string; data: ByteSource }[] {
  const bad = (why: string) => new FormatError("deb", why);
  if (src.size < 8 || !isDeb(src.read(0, 8))) throw bad("not an ar archive (bad magic)");
  const out: { name: string; data: ByteSource }[] = [];
  for (let at = 8; at < src.size;) {
    if (out.length >= MAX_MEMBERS) throw bad(`more than ${MAX_MEMBERS} members`);
    if (at + HEADER > src.size) throw bad(`truncated: a member header at ${at} ends past the file (${src.size} bytes)`);
    const h = src.read(at, HEADER);
    if (h.toString("latin1", 58, 60) !== "`\n") throw bad(`member header at ${at} is damaged (no \`\\n at its end)`);
    const name = h.toString("latin1", 0, 16).trim().replace(/\/$/, "");
    const sizeText = h.toString("latin1", 48, 58).trim();
    if (!/^\d{1,10}$/.test(sizeText)) throw bad(`member '${name}' has no size ('${sizeText}')`);
    const size = Number(sizeText);
    if (at + HEADER + size > src.size)
      throw bad(
        `truncated: member '${name}' claims ${size} bytes, the file has ${src.size - at - HEADER} after its header`,
      );
    out.push({ name, data: sliceSource(src, at + HEADER, size) });
    at += HEADER + size + (size % 2);
  }
  return out;
}

/** The package's files, as a tar source: data.tar, its compression undone. */
export async function debDataTar(src: ByteSource, limits: ReadLimits, label: string): Promise<ByteSource> {
  const members = arMembers(src);
  if (members[0]?.name !== "debian-binary")
    throw new FormatError("deb", "not a Debian package (no debian-binary first)");
  const data = members.find((m) => m.name.startsWith("data.tar"));
  if (!data) throw new FormatError("deb", `no data.tar member (it has ${members.map((m) => m.name).join(", ")})`);
  if (data.name === "data.tar") return data.data;
  if (data.name === "data.tar.gz") return gunzipSource(data.data, { label, limits });
  if (data.name === "data.tar.xz") return xzSource(data.data, { label, limits });
  throw new FormatError("deb", `${data.name}: only data.tar, data.tar.gz and data.tar.xz are read`);
}
