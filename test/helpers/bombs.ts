// Structure-aware hostile inputs, built byte by byte here (never by mkbundle's writers), each
// aimed at one way a reader could be made to spend without end: regions shared between
// directories, chains that share one tail, global state that grows, members held whole,
// checksums read whole, sheer entry counts, bundles that read one way in mkbundle and another
// in gzip. Each says in its comment what it claims and what it holds.
import { closeSync, openSync, readFileSync, writeFileSync, writeSync, ftruncateSync } from "node:fs";
import { crc32, deflateRawSync, gzipSync } from "node:zlib";
import { tarHeader } from "./hostile.js";

const SECTOR = 2048;

const both16 = (b: Buffer, v: number, at: number) => {
  b.writeUInt16LE(v, at);
  b.writeUInt16BE(v, at + 2);
};
const both32 = (b: Buffer, v: number, at: number) => {
  b.writeUInt32LE(v, at);
  b.writeUInt32BE(v, at + 4);
};

/** An ISO 9660 directory record: a directory when `dir`, named `name` (d-characters). */
function isoRecord(lba: number, size: number, name: Buffer, dir: boolean): Buffer {
  const len = 33 + name.length + (name.length % 2 === 0 ? 1 : 0);
  const b = Buffer.alloc(len + (len % 2));
  b[0] = b.length;
  both32(b, lba, 2);
  both32(b, size, 10);
  b.set([120, 1, 1, 0, 0, 0, 0], 18); // 2020-01-01
  b[25] = dir ? 2 : 0;
  both16(b, 1, 28);
  b[32] = name.length;
  name.copy(b, 33);
  return b;
}

/**
 * A plain ISO 9660 image of `dirs` directories that overlap: D<i> starts at sector i of one
 * shared region of `sectors` empty sectors (64 MiB by default) and runs to its end. Every
 * directory starts at a different sector (so no "same extent twice" rule sees it) and none
 * is nested in another (so no depth rule does), yet each costs a read of most of the region:
 * 2,000 x 64 MiB from a 65 MB file that gzip makes 100 KB.
 */
export function isoOverlapBomb(path: string, dirs = 2000, sectors = 32768): string {
  const perSector = Math.floor(SECTOR / 40);
  const rootAt = 20;
  const rootSectors = Math.ceil((dirs + 2) / perSector);
  const region = rootAt + rootSectors + 1;
  const total = region + sectors;
  const fd = openSync(path, "w");
  try {
    const rootSize = rootSectors * SECTOR;
    const pvd = Buffer.alloc(SECTOR);
    pvd[0] = 1;
    pvd.write("CD001", 1, "latin1");
    pvd[6] = 1;
    pvd.write("OVERLAP".padEnd(32, " "), 40, "latin1");
    both32(pvd, total, 80);
    both16(pvd, 1, 120);
    both16(pvd, 1, 124);
    both16(pvd, SECTOR, 128);
    isoRecord(rootAt, rootSize, Buffer.from([0]), true).copy(pvd, 156);
    const end = Buffer.alloc(SECTOR);
    end[0] = 255;
    end.write("CD001", 1, "latin1");
    end[6] = 1;
    writeSync(fd, pvd, 0, SECTOR, 16 * SECTOR);
    writeSync(fd, end, 0, SECTOR, 17 * SECTOR);
    const records = [
      isoRecord(rootAt, rootSize, Buffer.from([0]), true),
      isoRecord(rootAt, rootSize, Buffer.from([1]), true),
    ];
    for (let i = 0; i < dirs; i++)
      records.push(isoRecord(region + i, (sectors - i) * SECTOR, Buffer.from(`D${i}`, "latin1"), true));
    for (let k = 0; k < rootSectors; k++) {
      const s = Buffer.alloc(SECTOR);
      let at = 0;
      for (const r of records.slice(k * perSector, (k + 1) * perSector)) at += r.copy(s, at);
      writeSync(fd, s, 0, SECTOR, (rootAt + k) * SECTOR);
    }
    ftruncateSync(fd, total * SECTOR);
  } finally {
    closeSync(fd);
  }
  return path;
}

/** A FAT directory entry: 8.3 name, attributes, first cluster, size. */
function fatEntry(name: string, attr: number, cluster: number, size = 0): Buffer {
  const e = Buffer.alloc(32);
  e.write(name.padEnd(11, " "), 0, "latin1");
  e[11] = attr;
  e.writeUInt16LE(cluster >>> 16, 20);
  e.writeUInt16LE(cluster & 0xffff, 26);
  e.writeUInt32LE(size, 28);
  return e;
}

/**
 * A FAT32 volume (512-byte clusters) whose root lists `dirs` directories; each directory's
 * first cluster holds "." and "..", then its chain runs into one shared tail of `tail`
 * clusters of deleted entries (the longest a directory may be, 2 MiB). Each directory has
 * its own first cluster, so no "same directory twice" rule sees it, yet each costs the whole
 * tail: 60,000 x 2 MiB from a 35 MB image.
 */
export function fatSharedTailBomb(path: string, dirs = 60_000, tail = 4000): string {
  const rootClusters = Math.ceil((dirs * 32) / 512);
  const clusters = rootClusters + dirs + tail + 16;
  const reserved = 32;
  const fatSectors = Math.ceil(((clusters + 2) * 4) / 512);
  const dataStart = reserved + fatSectors;
  const totalSectors = dataStart + clusters;
  const clusterAt = (c: number) => (dataStart + c - 2) * 512;
  const fat = Buffer.alloc(fatSectors * 512);
  const link = (c: number, next: number) => fat.writeUInt32LE(next, c * 4);
  const EOC = 0x0fffffff;
  link(0, 0x0ffffff8);
  link(1, EOC);
  const root = 2;
  for (let c = root; c < root + rootClusters; c++) link(c, c + 1 < root + rootClusters ? c + 1 : EOC);
  const firstDir = root + rootClusters;
  const tailStart = firstDir + dirs;
  for (let i = 0; i < dirs; i++) link(firstDir + i, tailStart);
  for (let c = tailStart; c < tailStart + tail; c++) link(c, c + 1 < tailStart + tail ? c + 1 : EOC);

  const boot = Buffer.alloc(512);
  boot.set([0xeb, 0x58, 0x90], 0);
  boot.write("MKBOMB  ", 3, "latin1");
  boot.writeUInt16LE(512, 11);
  boot[13] = 1;
  boot.writeUInt16LE(reserved, 14);
  boot[16] = 1;
  boot[21] = 0xf8;
  boot.writeUInt32LE(totalSectors, 32);
  boot.writeUInt32LE(fatSectors, 36);
  boot.writeUInt32LE(root, 44);
  boot.writeUInt16LE(1, 48);
  boot[64] = 0x80;
  boot[66] = 0x29;
  boot.write("SHAREDTAIL ", 71, "latin1");
  boot.write("FAT32   ", 82, "latin1");
  boot[510] = 0x55;
  boot[511] = 0xaa;

  const fd = openSync(path, "w");
  try {
    ftruncateSync(fd, totalSectors * 512);
    writeSync(fd, boot, 0, 512, 0);
    writeSync(fd, fat, 0, fat.length, reserved * 512);
    const rootBytes = Buffer.alloc(rootClusters * 512);
    for (let i = 0; i < dirs; i++) fatEntry(`D${i}`, 0x10, firstDir + i).copy(rootBytes, i * 32);
    writeSync(fd, rootBytes, 0, rootBytes.length, clusterAt(root));
    const own = Buffer.alloc(512, 0);
    for (let at = 64; at < 512; at += 32) own[at] = 0xe5; // deleted: the listing goes on
    for (let i = 0; i < dirs; i++) {
      fatEntry(".", 0x10, firstDir + i).copy(own, 0);
      fatEntry("..", 0x10, 0).copy(own, 32);
      writeSync(fd, own, 0, 512, clusterAt(firstDir + i));
    }
    const deleted = Buffer.alloc(512);
    for (let at = 0; at < 512; at += 32) deleted[at] = 0xe5;
    const run = Buffer.concat(Array<Buffer>(tail).fill(deleted));
    writeSync(fd, run, 0, run.length, clusterAt(tailStart));
  } finally {
    closeSync(fd);
  }
  return path;
}

const pad512 = (n: number) => Buffer.alloc((512 - (n % 512)) % 512);

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len++;
  return `${len}${body}`;
}

/**
 * A tar of `headers` pax global headers ('g'), each adding `keys` new keywords, then one
 * file: a reader that copies the merged global map at every header does
 * headers^2 x keys / 2 copies (10^9 for the defaults), from a 40 MB file.
 */
export function paxGlobalTar(path: string, headers = 2000, keys = 1000): string {
  const fd = openSync(path, "w");
  try {
    for (let g = 0; g < headers; g++) {
      let text = "";
      for (let k = 0; k < keys; k++) text += paxRecord(`MKBOMB.g${g}k${k}`, "v");
      const records = Buffer.from(text, "latin1");
      writeSync(
        fd,
        Buffer.concat([tarHeader(`GlobalHead.${g}`, records.length, "g"), records, pad512(records.length)]),
      );
    }
    writeSync(fd, Buffer.concat([tarHeader("after", 3, "0"), Buffer.from("hi\n"), pad512(3), Buffer.alloc(1024)]));
  } finally {
    closeSync(fd);
  }
  return path;
}

/** A tar whose only file's mtime is base-256, far past anything a date can hold. */
export function hugeTimeTar(path: string): string {
  const h = tarHeader("when", 0, "0");
  h[136] = 0x80;
  h.fill(0x7f, 137, 148);
  h.write("        ", 148, "latin1");
  let sum = 0;
  for (const c of h) sum += c;
  h.write(sum.toString(8).padStart(6, "0") + "\0 ", 148, "latin1");
  writeFileSync(path, Buffer.concat([h, Buffer.alloc(1024)]));
  return path;
}

/** A newc/crc header (070702 or 070701): 13 hex fields. */
function newc(magic: string, name: string, mode: number, size: number, check = 0, ino = 0): Buffer {
  const hex = (v: number) => v.toString(16).padStart(8, "0");
  const fields = [ino, mode, 0, 0, 1, 0, size, 0, 0, 0, 0, Buffer.byteLength(name) + 1, check];
  const head = Buffer.from(magic + fields.map(hex).join("") + name + "\0", "latin1");
  return Buffer.concat([head, Buffer.alloc((4 - (head.length % 4)) % 4)]);
}

/**
 * A 070702 (CRC) cpio whose one file is `bytes` of zeros, stored as a hole: its checksum
 * (0) is right, so it is a valid archive of `bytes` that takes a few KiB on disk.
 */
export function sparseCrcCpio(path: string, bytes = 1.5 * 1024 ** 3): string {
  const head = newc("070702", "zeros", 0o100644, bytes);
  const trailer = newc("070702", "TRAILER!!!", 0, 0);
  const fd = openSync(path, "w");
  try {
    writeSync(fd, head, 0, head.length, 0);
    const at = head.length + bytes + ((4 - (bytes % 4)) % 4);
    writeSync(fd, trailer, 0, trailer.length, at);
  } finally {
    closeSync(fd);
  }
  return path;
}

/** A newc cpio of `count` empty files in 1,000 directories: 120 bytes an entry. */
export function manyEntriesCpio(path: string, count = 999_000): string {
  const fd = openSync(path, "w");
  try {
    const parts: Buffer[] = [];
    let ino = 1;
    const flush = () => {
      writeSync(fd, Buffer.concat(parts.splice(0)));
    };
    for (let d = 0; d < 1000; d++) parts.push(newc("070701", `d${d}`, 0o40755, 0, 0, ino++));
    for (let i = 0; i < count; i++) {
      parts.push(newc("070701", `d${i % 1000}/f${i}`, 0o100644, 0, 0, ino++));
      if (parts.length >= 10_000) flush();
    }
    parts.push(newc("070701", "TRAILER!!!", 0, 0));
    flush();
  } finally {
    closeSync(fd);
  }
  return path;
}

/** A manifest with `keys` unknown top-level keys. */
export function manyKeysManifest(path: string, keys = 190_000): string {
  const lines = ["name: many-keys"];
  for (let i = 0; i < keys; i++) lines.push(`k${i}: 1`);
  writeFileSync(path, lines.join("\n") + "\n");
  return path;
}

/** A manifest nested `depth` flow sequences deep. */
export function deepManifest(path: string, depth = 100_000): string {
  writeFileSync(path, `name: deep\nfiles: ${"[".repeat(depth)}${"]".repeat(depth)}\n`);
  return path;
}

// ---- bundles -------------------------------------------------------------------------------

/** One gzip member of a bundle: header with the 'MK' extra field (length on disk, kind), body, trailer. */
function mkMember(body: Buffer, data: Buffer, kind: number, claimed?: number): Buffer {
  const head = Buffer.alloc(25);
  head.set([0x1f, 0x8b, 8, 4, 0, 0, 0, 0, 0, 3], 0);
  head.writeUInt16LE(13, 10);
  head.write("MK", 12, "latin1");
  head.writeUInt16LE(9, 14);
  head.writeBigUInt64LE(BigInt(claimed ?? 25 + body.length + 8), 16);
  head[24] = kind;
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc32(data) >>> 0, 0);
  trailer.writeUInt32LE(data.length % 2 ** 32, 4);
  return Buffer.concat([head, body, trailer]);
}

/** The members of a bundle file: where each starts, its claimed length and kind. */
function bundleMembers(b: Buffer): { at: number; length: number; kind: number }[] {
  const out: { at: number; length: number; kind: number }[] = [];
  for (let at = 0; at < b.length;) {
    if (b[at] !== 0x1f || b.toString("latin1", at + 12, at + 14) !== "MK") break;
    const length = Number(b.readBigUInt64LE(at + 16));
    out.push({ at, length, kind: b[at + 24]! });
    at += length;
  }
  return out;
}

/**
 * `count` deflated members of `each` bytes of zeros laid out as bundle members (a tar header
 * member, then its data), then the end of the archive: 12 x 80 MiB from under 1 MB.
 */
export function deflateMemberBundle(path: string, count = 12, each = 80 * 1024 * 1024): string {
  const zeros = Buffer.alloc(each);
  const body = deflateRawSync(zeros, { level: 9 });
  const parts: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const h = tarHeader(`m${i}`, each, "0");
    parts.push(mkMember(deflateRawSync(h), h, 0), mkMember(body, zeros, 0));
  }
  const end = Buffer.alloc(1024);
  parts.push(mkMember(deflateRawSync(end), end, 0));
  writeFileSync(path, Buffer.concat(parts));
  return path;
}

/**
 * Differential copies of a real bundle, each a way for plain gzip readers (GNU tar, gzip -t,
 * zcat) and a reader that skips by the 'MK' lengths to see different bytes:
 * - hidden: a whole gzip member (a tar entry "evil") slipped inside the claimed length of a
 *   stored member whose data ends on a tar block (the base ISO): gzip readers decode it as
 *   the next tar entry; a reader that skips by length never sees it;
 * - trailing: a gzip member after the last one (gzip readers decode it);
 * - isize: the first member's ISIZE off by one;
 * - crc: the first member's CRC-32 flipped.
 */
export function differentialBundles(bundle: string, dir: string): Record<string, string> {
  const b = readFileSync(bundle);
  const members = bundleMembers(b);
  if (members.length < 3) throw new Error(`differentialBundles: ${members.length} members in ${bundle}`);
  const first = members[0]!;
  const isizeOf = (m: { at: number; length: number }) => b.readUInt32LE(m.at + m.length - 4);
  const aligned = members.find((m) => m.kind === 1 && isizeOf(m) > 0 && isizeOf(m) % 512 === 0);
  if (!aligned) throw new Error(`differentialBundles: no stored member ends on a tar block in ${bundle}`);
  const out: Record<string, string> = {};
  const put = (name: string, bytes: Buffer) => {
    out[name] = `${dir}/${name}-bundle.tar.gz`;
    writeFileSync(out[name], bytes);
  };
  // A gzip member of a tar entry "evil": its header block and one data block.
  const evilTar = Buffer.concat([tarHeader("evil", 1, "0"), Buffer.from("x"), pad512(1)]);
  const hidden = gzipSync(evilTar);
  const grown = Buffer.from(b.subarray(aligned.at, aligned.at + aligned.length));
  grown.writeBigUInt64LE(BigInt(aligned.length + hidden.length), 16);
  put("hidden", Buffer.concat([b.subarray(0, aligned.at), grown, hidden, b.subarray(aligned.at + aligned.length)]));
  put("trailing", Buffer.concat([b, gzipSync(evilTar)]));
  const isize = Buffer.from(b);
  isize.writeUInt32LE(isize.readUInt32LE(first.at + first.length - 4) + 1, first.at + first.length - 4);
  put("isize", isize);
  const crc = Buffer.from(b);
  crc.writeUInt32LE((crc.readUInt32LE(first.at + first.length - 8) ^ 1) >>> 0, first.at + first.length - 8);
  put("crc", crc);
  return out;
}
