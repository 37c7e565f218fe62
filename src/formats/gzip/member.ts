// One gzip member's framing (RFC 1952): the header (with an optional extra field), the
// deflate body as compressed or stored blocks, and the trailer (CRC-32, ISIZE). The gzip
// writer and the bundle container both build their members here; the container's reader
// checks them here, so that what mkbundle reads is what any gzip reader reads.
import { crc32, deflateRawSync, inflateRawSync } from "node:zlib";
import { FormatError } from "../../errors.js";
import { readInto, type ByteSource } from "../../io/byte-source.js";

const FEXTRA = 0x04;

export const isGzip = (b: Buffer): boolean => b.length >= 3 && b[0] === 0x1f && b[1] === 0x8b && b[2] === 8;
/** The largest stored deflate block. */
export const STORED_BLOCK = 65535;
/** Bytes of framing around each stored block. */
export const STORED_HEAD = 5;

/** XFL as gzip(1) sets it: 2 for level 9, 4 for level 1, else 0. */
export const xflOf = (level: number): number => (level === 9 ? 2 : level === 1 ? 4 : 0);

/** The member header: no name, mtime 0, OS 3 (Unix) whatever the host; an extra subfield when given. */
export function memberHeader(xfl: number, extra?: { id: string; data: Buffer }): Buffer {
  const fixed = Buffer.from([0x1f, 0x8b, 8, extra ? FEXTRA : 0, 0, 0, 0, 0, xfl, 3]);
  if (!extra) return fixed;
  const sub = Buffer.alloc(4 + extra.data.length);
  sub.write(extra.id, 0, "latin1");
  sub.writeUInt16LE(extra.data.length, 2);
  extra.data.copy(sub, 4);
  const xlen = Buffer.alloc(2);
  xlen.writeUInt16LE(sub.length, 0);
  return Buffer.concat([fixed, xlen, sub]);
}

export function memberTrailer(crc: number, size: number): Buffer {
  const t = Buffer.alloc(8);
  t.writeUInt32LE(crc >>> 0, 0);
  t.writeUInt32LE(size % 2 ** 32, 4);
  return t;
}

/** A whole member of `data`, deflated at `level`. */
export function deflatedMember(
  data: Buffer,
  level: number,
  extra?: (bodyLength: number) => { id: string; data: Buffer },
): Buffer {
  const body = deflateRawSync(data, { level });
  return Buffer.concat([
    memberHeader(xflOf(level), extra?.(body.length)),
    body,
    memberTrailer(crc32(data), data.length),
  ]);
}

/** How many bytes `size` bytes take as stored deflate blocks (an empty input is one empty block). */
export const storedBodyLength = (size: number): number =>
  size + STORED_HEAD * Math.max(1, Math.ceil(size / STORED_BLOCK));

/**
 * `src` as stored deflate blocks of STORED_BLOCK bytes (the last marked final), then the
 * trailer: a byte of the data is found by arithmetic and read in place.
 */
export async function* storedBody(src: ByteSource): AsyncGenerator<Buffer> {
  const blocks = Math.max(1, Math.ceil(src.size / STORED_BLOCK));
  let crc = 0;
  for (let i = 0; i < blocks; i++) {
    const at = i * STORED_BLOCK;
    const n = Math.min(STORED_BLOCK, src.size - at);
    const head = Buffer.alloc(STORED_HEAD);
    head[0] = i === blocks - 1 ? 1 : 0; // BFINAL, BTYPE 00 (stored)
    head.writeUInt16LE(n, 1);
    head.writeUInt16LE(~n & 0xffff, 3);
    const data = src.read(at, n);
    crc = crc32(data, crc);
    yield head;
    yield data;
    if (i % 256 === 255) await new Promise((r) => setImmediate(r)); // let signals and timers run
  }
  yield memberTrailer(crc, src.size);
}

export interface MemberHeader {
  /** Bytes before the deflate body. */
  length: number;
  /** The extra field's subfields by id. */
  extra: Map<string, Buffer>;
}

/** The member header at the start of `b` (at least its first bytes), or undefined when `b` does not start one. */
export function parseMemberHeader(b: Buffer): MemberHeader | undefined {
  if (b.length < 10 || b[0] !== 0x1f || b[1] !== 0x8b || b[2] !== 8) return undefined;
  const flags = b[3]!;
  const extra = new Map<string, Buffer>();
  let length = 10;
  if (flags & FEXTRA) {
    if (b.length < 12) return undefined;
    const xlen = b.readUInt16LE(10);
    if (b.length < 12 + xlen) return undefined;
    for (let at = 12; at + 4 <= 12 + xlen;) {
      const n = b.readUInt16LE(at + 2);
      if (at + 4 + n > 12 + xlen) return undefined;
      extra.set(b.toString("latin1", at, at + 2), b.subarray(at + 4, at + 4 + n));
      at += 4 + n;
    }
    length = 12 + xlen;
  }
  // Names, comments and header CRCs are not written by mkbundle: a member that has them is not one of ours.
  if (flags & ~FEXTRA) return undefined;
  return { length, extra };
}

/**
 * A deflated body that must be exactly `body` (not a byte more or less: bytes left after
 * the deflate stream would be read as another member by every other gzip reader), inflated
 * to at most `max` bytes and checked against its trailer.
 */
export function inflateExact(body: Buffer, trailer: Buffer, max: number, where: string): Buffer {
  let bytes: Buffer;
  let consumed: number;
  try {
    const r = inflateRawSync(body, { maxOutputLength: max, info: true }) as unknown as {
      buffer: Buffer;
      engine: { bytesWritten: number };
    };
    [bytes, consumed] = [r.buffer, r.engine.bytesWritten];
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new FormatError(
      "gzip",
      `${where}: ${code === "ERR_BUFFER_TOO_LARGE" ? `inflates to more than ${max} bytes` : (e as Error).message}`,
    );
  }
  if (consumed !== body.length)
    throw new FormatError(
      "gzip",
      `${where}: its deflate stream ends after ${consumed} of its ${body.length} bytes (hidden data follows it)`,
    );
  checkTrailer(trailer, crc32(bytes), bytes.length, where);
  return bytes;
}

/** The trailer's CRC-32 and ISIZE must be the data's. */
function checkTrailer(trailer: Buffer, crc: number, size: number, where: string): void {
  if (trailer.length < 8) throw new FormatError("gzip", `${where}: truncated (no trailer)`);
  if (trailer.readUInt32LE(0) !== crc >>> 0) throw new FormatError("gzip", `${where}: CRC-32 mismatch`);
  if (trailer.readUInt32LE(4) !== size % 2 ** 32)
    throw new FormatError("gzip", `${where}: ISIZE says ${trailer.readUInt32LE(4)} bytes, the data has ${size}`);
}

/**
 * Checks stored blocks at `at` in `file` laid out as storedBody writes them (every block
 * full but the last, which is final), their CRC-32 and ISIZE; returns the data's size.
 */
export async function checkStoredBody(
  file: ByteSource,
  at: number,
  bodyLength: number,
  where: string,
): Promise<number> {
  const blocks = Math.ceil(bodyLength / (STORED_BLOCK + STORED_HEAD));
  const size = bodyLength - STORED_HEAD * blocks;
  if (blocks === 0 || size < 0) throw new FormatError("gzip", `${where}: malformed stored blocks`);
  let crc = 0;
  const piece = Buffer.allocUnsafe(STORED_BLOCK);
  for (let i = 0; i < blocks; i++) {
    const start = at + i * (STORED_BLOCK + STORED_HEAD);
    const bh = file.read(start, STORED_HEAD);
    const n = bh.length === STORED_HEAD ? bh.readUInt16LE(1) : -1;
    const expected = i === blocks - 1 ? size - i * STORED_BLOCK : STORED_BLOCK;
    if (bh.length === STORED_HEAD && bh[0]! & 1 && (i < blocks - 1 || n < expected))
      throw new FormatError(
        "gzip",
        `${where}: its stored blocks end before the length its header claims (other data is hidden after them)`,
      );
    if (
      n !== expected ||
      (bh[0]! & 0x06) !== 0 ||
      (bh[0]! & 1) !== (i === blocks - 1 ? 1 : 0) ||
      bh.readUInt16LE(3) !== (~n & 0xffff)
    )
      throw new FormatError("gzip", `${where}: stored block ${i} is malformed`);
    const got = readInto(file, piece.subarray(0, n), start + STORED_HEAD);
    if (got !== n) throw new FormatError("gzip", `${where}: truncated in stored block ${i}`);
    crc = crc32(piece.subarray(0, n), crc);
    if (i % 256 === 255) await new Promise((r) => setImmediate(r)); // signals and timers run
  }
  checkTrailer(file.read(at + bodyLength, 8), crc, size, where);
  return size;
}
