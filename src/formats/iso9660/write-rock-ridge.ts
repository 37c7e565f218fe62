// The ISO writer's second step: Rock Ridge entries for every record ("." and ".." too),
// placed in the record where they fit and in a continuation area of the directory where
// they do not.
import { FormatError } from "../../errors.js";
import { SECTOR } from "./descriptors.js";
import { recordLength } from "./directory-record.js";
import { CE_SIZE, ceEntry, ER, nmEntries, pnEntry, pxEntry, slEntries, SP, suspEntry, tfEntry } from "./rock-ridge.js";
import type { IsoTree, Node, Overflow, PlacedSu } from "./write-tree.js";

const MAX_RECORD = 255;

/**
 * Splits a record's system use between the record and a continuation area. An NM that
 * does not fit is split (CONTINUE flag) so that part of the name stays in the record:
 * libarchive ignores a name that lives only in the continuation area.
 */
function pack(nameLen: number, su: Buffer[]): { inline: Buffer[]; rest: Buffer[] } {
  const room = MAX_RECORD - 1 - recordLength(nameLen, 0);
  const total = su.reduce((n, b) => n + b.length, 0);
  if (total <= room) return { inline: su, rest: [] };
  const inline: Buffer[] = [];
  let used = CE_SIZE;
  let i = 0;
  for (; i < su.length && used + su[i]!.length <= room; i++) {
    inline.push(su[i]!);
    used += su[i]!.length;
  }
  const rest = su.slice(i);
  const next = rest[0];
  const free = room - used;
  if (next && next.toString("latin1", 0, 2) === "NM" && free >= 6 && next.length > 5) {
    const flags = next[4]!;
    const name = next.subarray(5);
    const k = Math.min(free - 5, name.length - 1);
    inline.push(suspEntry("NM", Buffer.concat([Buffer.from([flags | 1]), name.subarray(0, k)])));
    rest[0] = suspEntry("NM", Buffer.concat([Buffer.from([flags]), name.subarray(k)]));
  }
  return { inline, rest };
}

/** Fills every node's su (and its "." and ".." records' for directories), allocating continuation sectors. */
export function placeRockRidge(tree: IsoTree): void {
  const rrType = (n: Node) => (n.entry.type === "hardlink" ? "file" : n.entry.type);
  const own = new Map<Node, Buffer[]>();
  for (const n of tree.all) {
    const e = n.entry;
    // xorriso's order: PX, TF, NM first, so names stay in the record when they can.
    const su = [pxEntry(rrType(n), e.mode, tree.links(n), e.uid, e.gid), tfEntry(e.mtime), ...nmEntries(n.name)];
    if (e.type === "char" || e.type === "block") su.push(pnEntry(e.rdevMajor ?? 0, e.rdevMinor ?? 0));
    if (e.type === "symlink") su.push(...slEntries(e.linkTarget ?? ""));
    own.set(n, su);
  }

  // Continuation areas: per directory, right after its extent (libarchive reads one only
  // when its read position lands on it, as it does after reading the directory), never
  // across a sector.
  const ceUsed = new Map<Node, number>();
  const allocate = (dir: Node, parts: Buffer[]): Overflow => {
    const bytes = Buffer.concat(parts);
    if (bytes.length > SECTOR)
      throw new FormatError("iso9660", `Rock Ridge data of ${bytes.length} bytes for one record`);
    let used = ceUsed.get(dir) ?? SECTOR;
    if (used + bytes.length > SECTOR) {
      dir.ce.push(Buffer.alloc(SECTOR));
      used = 0;
    }
    const slot = { dir, sector: dir.ce.length - 1, offset: used, length: bytes.length };
    bytes.copy(dir.ce[slot.sector]!, used);
    ceUsed.set(dir, used + bytes.length);
    return slot;
  };
  const place = (dir: Node, nameLen: number, su: Buffer[]): PlacedSu => {
    const { inline, rest } = pack(nameLen, su);
    return rest.length ? { inline, overflow: allocate(dir, rest) } : { inline };
  };
  for (const n of tree.all) {
    const su = own.get(n)!;
    if (n !== tree.root) n.su = place(n.parent!, n.iso.length, su);
    if (n.entry.type === "dir") {
      const withoutName = su.filter((b) => b.toString("latin1", 0, 2) !== "NM");
      n.dotSu = place(n, 1, n === tree.root ? [SP, ...withoutName, ER] : withoutName);
      const parent = n.parent ?? n;
      n.dotdotSu = place(n, 1, [
        pxEntry("dir", parent.entry.mode, tree.links(parent), parent.entry.uid, parent.entry.gid),
        tfEntry(parent.entry.mtime),
      ]);
    }
  }
}

/** The bytes of a placed system use area: inline entries, then a CE pointing at the rest. */
export function suBytes(p: PlacedSu): Buffer {
  const o = p.overflow;
  return Buffer.concat(
    o
      ? [
          ...p.inline,
          ceEntry({ lba: o.dir.dirLba + o.dir.dirSize / SECTOR + o.sector, offset: o.offset, length: o.length }),
        ]
      : p.inline,
  );
}

export const suLength = (p: PlacedSu): number =>
  p.inline.reduce((a, b) => a + b.length, 0) + (p.overflow ? CE_SIZE : 0);
