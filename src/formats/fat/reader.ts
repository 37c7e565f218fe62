// FAT12/16/32 reader over random-access bytes: lists files and directories with their long
// names and streams file data cluster run by cluster run. Guards: the geometry must fit the
// image, every cluster number is checked, a chain may not loop or outgrow the volume, each
// directory is expanded once, and names cannot escape.
import { FormatError } from "../../errors.js";
import { normalizeEntryPath, printable, type Entry } from "../../tree/entry.js";
import { rangesSource, type ByteSource } from "../../io/byte-source.js";
import { budgetOf, DEFAULT_LIMITS, type ReadLimits } from "../limits.js";
import { fromDosDateTime } from "./dos-time.js";
import { clusterBytes, clusterOffset, decodeBootSector, SECTOR } from "./geometry.js";
import { decodeLongNamePart, shortNameChecksum, shortNameText } from "./names.js";
import { getEntry, isBad, isEndOfChain } from "./table.js";
import { ATTR_DIRECTORY, ATTR_VOLUME_ID } from "./writer.js";

const MAX_DEPTH = 64;
const ATTR_LONG_NAME = 0x0f;
const ATTR_READ_ONLY = 0x01;

/** A FAT boot sector: 55 AA, a jump, a sane sector size and a FAT type string where the BPB puts it. */
export function isFat(head: Buffer): boolean {
  if (head.length < SECTOR || head[510] !== 0x55 || head[511] !== 0xaa) return false;
  if (!(head[0] === 0xeb && head[2] === 0x90) && head[0] !== 0xe9) return false;
  const type = head.toString("latin1", 54, 59) + head.toString("latin1", 82, 87);
  return /FAT1[26]|FAT32|FAT {2}/.test(type) && [512, 1024, 2048, 4096].includes(head.readUInt16LE(11));
}

export async function readFat(
  src: ByteSource,
  limits: ReadLimits = DEFAULT_LIMITS,
): Promise<{ label: string; entries: Entry[] }> {
  const budget = budgetOf(limits);
  const g = decodeBootSector(src.read(0, SECTOR), src.size);
  const fat = src.read(g.reservedSectors * SECTOR, g.sectorsPerFat * SECTOR);
  if (fat.length < g.sectorsPerFat * SECTOR) throw new FormatError("fat", "the FAT is truncated");
  const cb = clusterBytes(g);
  const lastCluster = g.clusterCount + 1;

  /**
   * The clusters of a chain, checked: in range, no loop. A directory's may not be longer than
   * `max`; a file's is followed only as far as its size needs (`max`), as Linux reads it, so
   * chains that share one long tail cost each file only its own clusters.
   */
  const chain = (first: number, what: string, max: number, kind: "directory" | "file"): number[] => {
    const out: number[] = [];
    const seen = new Set<number>();
    for (let c = first; ;) {
      if (c < 2 || c > lastCluster)
        throw new FormatError("fat", `${what}: cluster ${c} is outside the volume (2..${lastCluster})`);
      if (seen.has(c)) throw new FormatError("fat", `${what}: its cluster chain loops at cluster ${c}`);
      if (out.length >= max) {
        if (kind === "file") return out;
        throw new FormatError("fat", `${what}: its cluster chain is longer than ${max} clusters`);
      }
      seen.add(c);
      out.push(c);
      const next = getEntry(fat, g.type, c);
      if (isEndOfChain(g.type, next)) return out;
      if (isBad(g.type, next) || next === 0)
        throw new FormatError(
          "fat",
          `${what}: its cluster chain breaks at cluster ${c} (${next ? "bad cluster" : "free cluster"})`,
        );
      c = next;
    }
  };
  /** Contiguous runs of a chain as byte ranges, cut to `size` bytes. */
  const ranges = (clusters: number[], size: number) => {
    const out: { offset: number; length: number }[] = [];
    let left = size;
    for (let i = 0; i < clusters.length && left > 0; i++) {
      const length = Math.min(cb, left);
      const offset = clusterOffset(g, clusters[i]!);
      const last = out[out.length - 1];
      if (last && last.offset + last.length === offset) last.length += length;
      else out.push({ offset, length });
      left -= length;
    }
    return out;
  };

  const entries: Entry[] = [];
  let dataBytes = 0;
  const expanded = new Set<number>();
  const rootBytes = g.type === 32 ? undefined : src.read(g.rootStart * SECTOR, g.rootEntries * 32);
  let label = "";

  /** A directory's bytes: every cluster read counts against the budget, each time it is reached. */
  const directoryBytes = async (first: number, what: string): Promise<Buffer> => {
    const clusters = chain(first, what, Math.ceil((2 * 1024 * 1024) / cb), "directory");
    budget.visit("fat", clusters.length * cb, what);
    await budget.pause();
    return Buffer.concat(clusters.map((c) => src.read(clusterOffset(g, c), cb)));
  };

  const walk = async (bytes: Buffer, prefix: string, depth: number): Promise<void> => {
    if (depth > MAX_DEPTH)
      throw new FormatError("fat", `directories nest deeper than ${MAX_DEPTH} at '${printable(prefix)}'`);
    let long: { sum: number; expect: number; units: number[] } | undefined;
    const names = new Set<string>();
    for (let at = 0; at + 32 <= bytes.length; at += 32) {
      const e = bytes.subarray(at, at + 32);
      if (e[0] === 0) break;
      if (e[0] === 0xe5) {
        long = undefined;
        continue;
      }
      const attr = e[11]!;
      if ((attr & 0x3f) === ATTR_LONG_NAME) {
        const part = decodeLongNamePart(e);
        if (part.last) long = { sum: part.sum, expect: part.order - 1, units: part.units };
        else if (long && part.order === long.expect && part.sum === long.sum)
          long = { ...long, expect: long.expect - 1, units: [...part.units, ...long.units] };
        else long = undefined;
        continue;
      }
      const short = e.subarray(0, 11);
      const longName =
        long && long.expect === 0 && long.sum === shortNameChecksum(short)
          ? String.fromCharCode(...long.units)
          : undefined;
      long = undefined;
      if (attr & ATTR_VOLUME_ID) {
        if (!prefix) label = short.toString("latin1").trimEnd();
        continue;
      }
      const name = longName ?? shortNameText(short, e[12]!);
      if (longName === undefined && (name === "." || name === "..")) continue; // the directory and its parent
      // A long name "." or ".." would hide a directory from every listing: never a real name.
      if (!name || name === "." || name === ".." || name.includes("/") || name.includes("\0"))
        throw new FormatError("fat", `invalid name '${printable(name)}' in '${printable(prefix) || "/"}'`);
      const key = name.toLowerCase();
      if (names.has(key))
        throw new FormatError("fat", `'${printable(name)}' appears twice in '${printable(prefix) || "/"}'`);
      names.add(key);
      if (entries.length >= limits.entries)
        throw new FormatError("fat", `more than ${limits.entries} entries (the limit for one container)`);
      const path = normalizeEntryPath("fat", prefix ? `${prefix}/${name}` : name);
      const first = (g.type === 32 ? e.readUInt16LE(20) << 16 : 0) | e.readUInt16LE(26);
      const mtime = fromDosDateTime(e.readUInt16LE(24), e.readUInt16LE(22));
      if (attr & ATTR_DIRECTORY) {
        entries.push({ path, type: "dir", mode: 0o755, uid: 0, gid: 0, mtime, size: 0 });
        if (!first) throw new FormatError("fat", `directory '${printable(path)}' has no clusters`);
        if (expanded.has(first))
          throw new FormatError("fat", `directory '${printable(path)}' reuses the clusters of another (a loop)`);
        expanded.add(first);
        await walk(await directoryBytes(first, `directory '${printable(path)}'`), path, depth + 1);
        continue;
      }
      const size = e.readUInt32LE(28);
      dataBytes += size;
      if (dataBytes > limits.bytes)
        throw new FormatError("fat", `its files hold more than ${limits.bytes} bytes (the limit for one container)`);
      const needed = Math.ceil(size / cb);
      const clusters = size ? chain(first, `'${printable(path)}'`, needed, "file") : [];
      await budget.pause();
      if (clusters.length < needed)
        throw new FormatError(
          "fat",
          `'${printable(path)}' is ${size} bytes but its chain holds ${clusters.length * cb}`,
        );
      const rs = ranges(clusters, size);
      entries.push({
        path,
        type: "file",
        mode: attr & ATTR_READ_ONLY ? 0o444 : 0o644,
        uid: 0,
        gid: 0,
        mtime,
        size,
        content: () => rangesSource(src, rs),
      });
    }
  };
  if (rootBytes) await walk(rootBytes, "", 0);
  else {
    expanded.add(g.rootCluster);
    await walk(await directoryBytes(g.rootCluster, "the root directory"), "", 0);
  }
  return { label, entries };
}
