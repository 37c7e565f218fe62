// The bundle file: a tar.gz that any tar and gzip read, laid out so that mkbundle can read a
// member in place. Each tar member (header, then data) is its own gzip member; its header
// carries an extra field 'MK' with the member's length on disk and how it is stored. Data
// that is compressed already (the overlay .tar.gz, the base ISO) is kept in stored deflate
// blocks of 65,535 bytes, so a byte of it is found by arithmetic and read where it lies:
// nothing is inflated or recompressed. Small parts are deflated.
import { crc32, deflateRawSync, inflateRawSync } from "node:zlib";
import { FormatError } from "../errors.js";
import { readInto, type ByteSource } from "../io/byte-source.js";

const STORED_BLOCK = 65535;
const KIND_DEFLATED = 0;
const KIND_STORED = 1;
/** A deflated part (tar headers, bundle.json) inflates to at most this. */
const MAX_SMALL = 64 * 1024 * 1024;

export interface BundleMember {
  name: string;
  /** Random-access bytes: read in pieces, never whole. */
  source: ByteSource;
  /** Store (do not deflate) the data: it is compressed already. */
  stored: boolean;
  mtime: number;
}

/** A ustar header for a plain file, fields as GNU tar writes them. */
function ustarHeader(name: string, size: number, mtime: number): Buffer {
  if (Buffer.byteLength(name) > 100) throw new FormatError("bundle", `member name '${name}' is longer than 100 bytes`);
  if (size >= 8 ** 11)
    throw new FormatError("bundle", `member '${name}' is ${size} bytes; a bundle member may have less than 8 GiB`);
  const h = Buffer.alloc(512);
  const octal = (v: number, width: number, at: number) =>
    h.write(`${v.toString(8).padStart(width - 1, "0")}\0`, at, "latin1");
  h.write(name, 0, "utf8");
  octal(0o644, 8, 100);
  octal(0, 8, 108);
  octal(0, 8, 116);
  octal(size, 12, 124);
  octal(mtime, 12, 136);
  h.write("        ", 148, "latin1");
  h.write("0", 156, "latin1");
  h.write("ustar\0", 257, "latin1");
  h.write("00", 263, "latin1");
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "latin1");
  return h;
}

function gzipHeader(memberLength: number, kind: number): Buffer {
  const h = Buffer.alloc(10 + 2 + 4 + 9);
  h.set([0x1f, 0x8b, 8, 0x04, 0, 0, 0, 0, kind === KIND_STORED ? 0 : 2, 3]); // FEXTRA, mtime 0, OS Unix
  h.writeUInt16LE(4 + 9, 10); // XLEN
  h.write("MK", 12, "latin1");
  h.writeUInt16LE(9, 14);
  h.writeBigUInt64LE(BigInt(memberLength), 16);
  h[24] = kind;
  return h;
}

const trailer = (crc: number, size: number) => {
  const t = Buffer.alloc(8);
  t.writeUInt32LE(crc >>> 0, 0);
  t.writeUInt32LE(size % 2 ** 32, 4);
  return t;
};

function deflatedMember(data: Buffer): Buffer {
  const body = deflateRawSync(data, { level: 9 });
  const length = 25 + body.length + 8;
  return Buffer.concat([gzipHeader(length, KIND_DEFLATED), body, trailer(crc32(data), data.length)]);
}

/** A stored member, streamed: blocks of 65,535 bytes, each with its 5-byte header. */
async function* storedMember(src: ByteSource): AsyncGenerator<Buffer> {
  const blocks = Math.max(1, Math.ceil(src.size / STORED_BLOCK));
  yield gzipHeader(25 + src.size + 5 * blocks + 8, KIND_STORED);
  let crc = 0;
  for (let i = 0; i < blocks; i++) {
    const at = i * STORED_BLOCK;
    const n = Math.min(STORED_BLOCK, src.size - at);
    const head = Buffer.alloc(5);
    head[0] = i === blocks - 1 ? 1 : 0; // BFINAL, BTYPE 00 (stored)
    head.writeUInt16LE(n, 1);
    head.writeUInt16LE(~n & 0xffff, 3);
    const data = src.read(at, n);
    crc = crc32(data, crc);
    yield head;
    yield data;
    if (i % 256 === 255) await new Promise((r) => setImmediate(r)); // let signals and timers run
  }
  yield trailer(crc, src.size);
}

/** The bundle's bytes: each member's tar header and data as gzip members, then the end of the archive. */
export async function* bundleBytes(members: readonly BundleMember[]): AsyncGenerator<Buffer> {
  let pad = Buffer.alloc(0);
  for (const m of members) {
    const header = ustarHeader(m.name, m.source.size, m.mtime);
    yield deflatedMember(Buffer.concat([pad, header]));
    if (m.stored) yield* storedMember(m.source);
    else yield deflatedMember(readAll(m.source));
    pad = Buffer.alloc((512 - (m.source.size % 512)) % 512);
  }
  yield deflatedMember(Buffer.concat([pad, Buffer.alloc(1024)]));
}

function readAll(src: ByteSource): Buffer {
  if (src.size > MAX_SMALL) throw new FormatError("bundle", `a deflated member of ${src.size} bytes is too large`);
  return src.read(0, src.size);
}

/** A piece of the uncompressed tar: in memory, or stored blocks at `at` in the file. */
type Segment = { start: number; size: number } & ({ bytes: Buffer } | { at: number });

/**
 * The bundle's tar stream as random-access bytes, without inflating the stored members;
 * undefined when the file is not laid out this way (a bundle gzip'd by another tool).
 */
export function bundleTar(file: ByteSource): ByteSource | undefined {
  const segments: Segment[] = [];
  let start = 0;
  for (let at = 0; at < file.size;) {
    const h = file.read(at, 25);
    if (
      h.length < 25 ||
      h[0] !== 0x1f ||
      h[1] !== 0x8b ||
      h[2] !== 8 ||
      h[3] !== 0x04 ||
      h.readUInt16LE(10) !== 13 ||
      h.toString("latin1", 12, 14) !== "MK" ||
      h.readUInt16LE(14) !== 9
    ) {
      if (segments.length === 0) return undefined;
      if (h.every((b) => b === 0)) break; // padding
      throw new FormatError("bundle", `bytes at offset ${at} are not a bundle member`);
    }
    const length = Number(h.readBigUInt64LE(16));
    const kind = h[24];
    if (length < 33 || at + length > file.size)
      throw new FormatError("bundle", `member at offset ${at} claims ${length} bytes, past the end of the file`);
    const body = at + 25;
    const bodyLength = length - 33;
    if (kind === KIND_DEFLATED) {
      if (bodyLength > MAX_SMALL)
        throw new FormatError("bundle", `deflated member at offset ${at} is ${bodyLength} bytes`);
      let bytes: Buffer;
      try {
        bytes = inflateRawSync(file.read(body, bodyLength), { maxOutputLength: MAX_SMALL });
      } catch (e) {
        throw new FormatError("bundle", `member at offset ${at}: ${(e as Error).message}`);
      }
      const t = file.read(body + bodyLength, 8);
      if (t.readUInt32LE(0) !== crc32(bytes) >>> 0)
        throw new FormatError("bundle", `member at offset ${at}: CRC mismatch`);
      segments.push({ start, size: bytes.length, bytes });
      start += bytes.length;
    } else if (kind === KIND_STORED) {
      // Every block full but the last: check that, then a byte's place is arithmetic.
      const blocks = Math.ceil(bodyLength / (STORED_BLOCK + 5));
      const size = bodyLength - 5 * blocks;
      if (size < 0) throw new FormatError("bundle", `stored member at offset ${at} is malformed`);
      for (let i = 0; i < blocks; i++) {
        const bh = file.read(body + i * (STORED_BLOCK + 5), 5);
        const n = bh.readUInt16LE(1);
        const expected = i === blocks - 1 ? size - i * STORED_BLOCK : STORED_BLOCK;
        if (
          (bh[0]! & 0x06) !== 0 ||
          (bh[0]! & 1) !== (i === blocks - 1 ? 1 : 0) ||
          n !== expected ||
          bh.readUInt16LE(3) !== (~n & 0xffff)
        ) {
          throw new FormatError("bundle", `stored member at offset ${at}: block ${i} is malformed`);
        }
      }
      segments.push({ start, size, at: body });
      start += size;
    } else throw new FormatError("bundle", `member at offset ${at} has an unknown kind ${kind}`);
    at += length;
  }
  const total = start;
  /** Bytes of segment `s` from `offset` into `target` (read in place for stored data); returns how many. */
  const segmentInto = (s: Segment, offset: number, target: Buffer): number => {
    if ("bytes" in s) return s.bytes.copy(target, 0, offset, offset + target.length);
    let done = 0;
    while (done < target.length) {
      const block = Math.floor(offset / STORED_BLOCK);
      const within = offset % STORED_BLOCK;
      const k = Math.min(target.length - done, STORED_BLOCK - within, s.size - offset);
      if (k <= 0) break;
      const got = readInto(file, target.subarray(done, done + k), s.at + block * (STORED_BLOCK + 5) + 5 + within);
      done += got;
      offset += got;
      if (got < k) break;
    }
    return done;
  };
  const into = (target: Buffer, offset: number): number => {
    let done = 0;
    let i = segments.findIndex((s) => offset < s.start + s.size);
    while (done < target.length && i >= 0 && i < segments.length) {
      const s = segments[i]!;
      const want = Math.min(target.length - done, s.start + s.size - offset);
      const got = segmentInto(s, offset - s.start, target.subarray(done, done + want));
      done += got;
      offset += got;
      if (got < want) break;
      i++;
    }
    return done;
  };
  return {
    size: total,
    read(offset, length) {
      const n = Math.max(0, Math.min(length, total - offset));
      const s = segments.find((x) => offset >= x.start && offset + n <= x.start + x.size);
      if (s && "bytes" in s) return s.bytes.subarray(offset - s.start, offset - s.start + n);
      const out = Buffer.allocUnsafe(n);
      const got = into(out, offset);
      return got === n ? out : out.subarray(0, got);
    },
    readInto: (target, offset) =>
      into(target.subarray(0, Math.max(0, Math.min(target.length, total - offset))), offset),
    close: () => file.close(),
  };
}
