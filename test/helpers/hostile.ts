// Hostile inputs, built small in the test: each one claims (or expands to) far more than it
// holds. Real tools make the well-formed part; a few bytes are patched to make it hostile.
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { q, sh } from "./run.js";

/** Directories d/x and d/y nested `depth` deep, with one small file at the bottom of the x chain. */
function twinTree(root: string, depth: number): void {
  let p = root;
  for (let i = 0; i < depth; i++) {
    mkdirSync(join(p, "y"), { recursive: true });
    p = join(p, "x");
    mkdirSync(p, { recursive: true });
  }
  writeFileSync(join(p, "f"), "bottom\n");
}

/**
 * A squashfs where every y/ is the same directory as its sibling x/ (2^depth paths from a
 * few KiB), with a superblock claiming 0xffffffff inodes. Metadata is left uncompressed
 * (-noI) so the directory entries can be patched in place.
 */
export function squashfsDagBomb(dir: string, depth = 30): string {
  const src = join(dir, "sq-dag-src");
  twinTree(src, depth);
  const out = join(dir, "dag-bomb.tcz");
  sh(`mksquashfs ${q(src)} ${q(out)} -noappend -quiet -no-progress -noI -noD -noF -noX -all-root -no-xattrs`);
  const b = readFileSync(out);
  const dirTable = Number(b.readBigUInt64LE(72));
  let patched = 0;
  // Directory entries: offset u16, inode_offset s16, type u16, name_size-1 u16, name.
  for (let i = dirTable; i + 18 <= b.length; i++) {
    if (b.readUInt16LE(i + 6) === 0 && b[i + 8] === 0x78 && b.readUInt16LE(i + 15) === 0 && b[i + 17] === 0x79) {
      b.copy(b, i + 9, i, i + 4); // y's inode reference := x's
      patched++;
      i += 17;
    }
  }
  if (patched !== depth) throw new Error(`squashfsDagBomb: patched ${patched} of ${depth} levels`);
  b.writeUInt32LE(0xffffffff, 4); // inode_count
  writeFileSync(out, b);
  return out;
}

/** ISO 9660 directory records of every sector: [offset, name] for records that look sane. */
function isoRecords(b: Buffer): { at: number; name: string }[] {
  const out: { at: number; name: string }[] = [];
  for (let s = 16 * 2048; s < b.length; s += 2048) {
    for (let at = s; at < s + 2048 && b[at]! >= 34; at += b[at]!) {
      const len = b[at]!;
      const nameLen = b[at + 32]!;
      if (at + len > s + 2048 || 33 + nameLen > len) break;
      out.push({ at, name: b.toString("latin1", at + 33, at + 33 + nameLen) });
    }
  }
  return out;
}

/** An ISO (genisoimage, Rock Ridge, no deep relocation) whose every Y directory record points at its sibling X. */
export function isoDagBomb(dir: string, depth = 30): string {
  const src = join(dir, "iso-dag-src");
  twinTree(src, depth);
  const out = join(dir, "dag-bomb.iso");
  sh(`genisoimage -quiet -R -D -o ${q(out)} ${q(src)}`);
  const b = readFileSync(out);
  const records = isoRecords(b);
  let patched = 0;
  for (let i = 1; i < records.length; i++) {
    const [x, y] = [records[i - 1]!, records[i]!];
    if (x.name === "X" && y.name === "Y") {
      b.copy(b, y.at + 2, x.at + 2, x.at + 18); // extent LBA and size, both byte orders
      patched++;
    }
  }
  if (patched < depth) throw new Error(`isoDagBomb: patched ${patched} of ${depth} levels`);
  writeFileSync(out, b);
  return out;
}

/** The Rock Ridge variant: genisoimage relocates deep directories (CL entries); the second CL points at the first's directory. */
export function isoChildLinkBomb(dir: string): string {
  const src = join(dir, "iso-cl-src");
  for (const top of ["a", "b"]) {
    const deep = join(src, top, ...Array<string>(9).fill("d"));
    mkdirSync(deep, { recursive: true });
    writeFileSync(join(deep, "f"), "deep\n");
  }
  const out = join(dir, "cl-bomb.iso");
  sh(`genisoimage -quiet -R -o ${q(out)} ${q(src)}`);
  const b = readFileSync(out);
  const links: { at: number; lba: number }[] = [];
  for (let i = b.indexOf("CL\x0c\x01", 0, "latin1"); i >= 0; i = b.indexOf("CL\x0c\x01", i + 4, "latin1"))
    links.push({ at: i, lba: b.readUInt32LE(i + 4) });
  if (links.length !== 2) throw new Error(`isoChildLinkBomb: found ${links.length} CL entries`);
  b.writeUInt32LE(links[0]!.lba, links[1]!.at + 4);
  b.writeUInt32BE(links[0]!.lba, links[1]!.at + 8);
  writeFileSync(out, b);
  return out;
}

/**
 * An ISO whose file F is 400 multi-extent records, each naming the same 8 MiB extent: it
 * claims 3.2 GB from an image of about 8.6 MB.
 */
export function isoMultiExtentBomb(dir: string, records = 400): string {
  const src = join(dir, "iso-multi-src");
  mkdirSync(join(src, "many"), { recursive: true });
  writeFileSync(join(src, "big"), Buffer.alloc(8 * 1024 * 1024, 0x5a));
  for (let i = 0; i < records; i++) writeFileSync(join(src, "many", `f${String(i).padStart(4, "0")}`), "");
  const out = join(dir, "multi-extent.iso");
  sh(`genisoimage -quiet -o ${q(out)} ${q(src)}`); // plain ISO 9660: the records are the names
  const b = readFileSync(out);
  const all = isoRecords(b);
  const big = all.find((r) => r.name === "BIG.;1")!;
  const many = all.filter((r) => /^F\d{4}\.;1$/.test(r.name));
  if (!big || many.length !== records) throw new Error(`isoMultiExtentBomb: ${many.length} records`);
  for (const [i, r] of many.entries()) {
    b.copy(b, r.at + 2, big.at + 2, big.at + 18);
    b[r.at + 25] = i < many.length - 1 ? 0x80 : 0; // multi-extent flag on all but the last
    b.write("F0000.;1", r.at + 33, "latin1");
  }
  writeFileSync(out, b);
  return out;
}

/** A squashfs (tar2sqfs, gzip) of sparse files: `count` files of `size` bytes, a few KiB on disk. */
export function sparseSquashfs(dir: string, name: string, count: number, size = 2 * 1024 ** 3): string {
  const src = join(dir, `${name}-src`);
  mkdirSync(src, { recursive: true });
  const files = Array.from({ length: count }, (_, i) => `big${i}`);
  for (const f of files) sh(`truncate -s ${size} ${q(join(src, f))}`);
  const out = join(dir, `${name}.tcz`);
  sh(`tar -C ${q(src)} -S -cf - ${files.join(" ")} | tar2sqfs -q -f -c gzip ${q(out)}`);
  sh(`rm -f ${files.map((f) => q(join(src, f))).join(" ")}`);
  return out;
}

/** Concatenated gzip members of zeros: `gib` GiB uncompressed in about a thousandth of that. */
export function gzipBomb(path: string, gib = 10): string {
  const member = gzipSync(Buffer.alloc(64 * 1024 * 1024), { level: 9 });
  const fd = openSync(path, "w");
  try {
    for (let i = 0; i < gib * 16; i++) writeSync(fd, member);
  } finally {
    closeSync(fd);
  }
  return path;
}

/** A ustar header: a regular file by default, or a hard link ("1") or pax extended header ("x"). */
export function tarHeader(name: string, size: number, type = "0", link = ""): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, "latin1");
  h.write("0000644\0", 100, "latin1");
  h.write("0000000\0", 108, "latin1");
  h.write("0000000\0", 116, "latin1");
  h.write(size.toString(8).padStart(11, "0") + "\0", 124, "latin1");
  h.write("00000000000\0", 136, "latin1");
  h.write("        ", 148, "latin1");
  h.write(type, 156, "latin1");
  h.write(link, 157, "latin1");
  h.write("ustar\x0000", 257, "latin1");
  let sum = 0;
  for (const c of h) sum += c;
  h.write(sum.toString(8).padStart(6, "0") + "\0 ", 148, "latin1");
  return h;
}

const padded = (b: Buffer) => Buffer.concat([b, Buffer.alloc((512 - (b.length % 512)) % 512)]);

/** One pax record: "LEN key=value\n", LEN counting itself. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len++;
  return `${len}${body}`;
}

export interface TarMember {
  name: string;
  data?: Buffer;
  /** A hard link to this path. */
  hardLinkTo?: string;
  /** pax keywords for this member (mtime, uid, ...), written as given. */
  pax?: Record<string, string>;
}

/** A small tar built byte by byte, so it can say what real tools refuse to write. */
export function tarOf(members: TarMember[]): Buffer {
  const parts: Buffer[] = [];
  for (const m of members) {
    if (m.pax) {
      const records = Buffer.from(
        Object.entries(m.pax)
          .map(([k, v]) => paxRecord(k, v))
          .join(""),
        "latin1",
      );
      parts.push(tarHeader(`PaxHeader/${m.name}`, records.length, "x"), padded(records));
    }
    if (m.hardLinkTo !== undefined) parts.push(tarHeader(m.name, 0, "1", m.hardLinkTo));
    else parts.push(tarHeader(m.name, m.data?.length ?? 0), padded(m.data ?? Buffer.alloc(0)));
  }
  return Buffer.concat([...parts, Buffer.alloc(1024)]);
}

/** A tar.gz holding one file of `bytes` zeros (a multiple of 1 MiB): one gzip member per MiB, never all of it in memory. */
function zerosTarGz(name: string, bytes: number): Buffer {
  const mib = gzipSync(Buffer.alloc(1024 * 1024), { level: 9 });
  const head = gzipSync(tarHeader(name, bytes));
  const tail = gzipSync(Buffer.alloc(1024));
  return Buffer.concat([head, ...Array<Buffer>(bytes / (1024 * 1024)).fill(mib), tail]);
}

/** tar.gz inside tar.gz, `layers` deep, around a 200 MiB file of zeros: each layer passes the gzip ceiling alone. */
export function nestedTarGz(dir: string, layers = 5): { path: string; inner: string[] } {
  let content = zerosTarGz("zeros.bin", 200 * 1024 * 1024);
  const inner = ["zeros.bin"];
  for (let i = 1; i < layers; i++) {
    const name = `layer${i - 1}.tar.gz`;
    const pad = (512 - (content.length % 512)) % 512;
    const tar = Buffer.concat([tarHeader(name, content.length), content, Buffer.alloc(pad + 1024)]);
    content = gzipSync(tar, { level: 9 });
    inner.unshift(name);
  }
  const path = join(dir, `layer${layers - 1}.tar.gz`);
  writeFileSync(path, content);
  return { path, inner };
}
