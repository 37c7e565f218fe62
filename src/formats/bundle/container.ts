// The bundle file: a tar.gz that any tar and gzip read, laid out so that mkbundle can read a
// member in place. Each tar member (header, then data) is its own gzip member; its header
// carries an extra field 'MK' with the member's length on disk and how it is stored. Data
// that is compressed already (the overlay .tar.gz, the base ISO) is kept in stored deflate
// blocks, so a byte of it is found by arithmetic and read where it lies: nothing is inflated
// or recompressed. Small parts are deflated. Built from the tar header (formats/tar) and the
// gzip member framing (formats/gzip); read back only after every member checks out as any
// gzip reader would read it (exact deflate ends, CRC-32, ISIZE, nothing after the last).
import { FormatError } from "../../errors.js";
import { readInto, type ByteSource } from "../../io/byte-source.js";
import {
  checkStoredBody,
  deflatedMember,
  inflateExact,
  memberHeader,
  parseMemberHeader,
  STORED_BLOCK,
  type MemberHeader,
  STORED_HEAD,
  storedBody,
  storedBodyLength,
} from "../gzip/member.js";
import { headerBlock, padding } from "../tar/header.js";

const KIND_DEFLATED = 0;
const KIND_STORED = 1;
/** Bytes of a member's gzip header: 10 fixed, XLEN, the 'MK' subfield (4 + 9). */
const HEADER = 25;
const TRAILER = 8;
/** All deflated parts together (tar headers, bundle.json, an EFI loader) inflate to at most this. */
const MAX_DEFLATED = 64 * 1024 * 1024;
/** gzip members in one bundle: a real one has a dozen. */
const MAX_MEMBERS = 256;

export interface BundleMember {
  name: string;
  /** Random-access bytes: read in pieces, never whole. */
  source: ByteSource;
  /** Store (do not deflate) the data: it is compressed already. */
  stored: boolean;
  mtime: number;
}

const mk = (memberLength: number, kind: number) => {
  const data = Buffer.alloc(9);
  data.writeBigUInt64LE(BigInt(memberLength), 0);
  data[8] = kind;
  return { id: "MK", data };
};

const deflated = (data: Buffer): Buffer =>
  deflatedMember(data, 9, (bodyLength) => mk(HEADER + bodyLength + TRAILER, KIND_DEFLATED));

async function* stored(src: ByteSource): AsyncGenerator<Buffer> {
  yield memberHeader(0, mk(HEADER + storedBodyLength(src.size) + TRAILER, KIND_STORED));
  yield* storedBody(src);
}

/** A ustar header for a plain file, fields as GNU tar writes them. */
function memberTarHeader(name: string, size: number, mtime: number): Buffer {
  if (Buffer.byteLength(name) > 100) throw new FormatError("bundle", `member name '${name}' is longer than 100 bytes`);
  if (size >= 8 ** 11)
    throw new FormatError("bundle", `member '${name}' is ${size} bytes; a bundle member may have less than 8 GiB`);
  const h = { name, mode: 0o644, uid: 0, gid: 0, size, mtime, typeflag: "0", linkname: "", devmajor: 0, devminor: 0 };
  return headerBlock(h, "", "nul");
}

/** The bundle's bytes: each member's tar header and data as gzip members, then the end of the archive. */
export async function* bundleBytes(members: readonly BundleMember[]): AsyncGenerator<Buffer> {
  let pad = Buffer.alloc(0);
  for (const m of members) {
    yield deflated(Buffer.concat([pad, memberTarHeader(m.name, m.source.size, m.mtime)]));
    if (m.stored) yield* stored(m.source);
    else yield deflated(readSmall(m.source));
    pad = Buffer.alloc(padding(m.source.size));
  }
  yield deflated(Buffer.concat([pad, Buffer.alloc(1024)]));
}

function readSmall(src: ByteSource): Buffer {
  if (src.size > MAX_DEFLATED) throw new FormatError("bundle", `a deflated member of ${src.size} bytes is too large`);
  return src.read(0, src.size);
}

/** Whether `head` starts a bundle mkbundle wrote: a gzip member with the 'MK' field. */
export const isBundle = (head: Buffer): boolean => isMember(parseMemberHeader(head));

const isMember = (head: MemberHeader | undefined): head is MemberHeader =>
  head?.length === HEADER && head.extra.get("MK")?.length === 9;

/** A piece of the uncompressed tar: in memory, or stored blocks at `at` in the file. */
type Segment = { start: number; size: number } & ({ bytes: Buffer } | { at: number });

/**
 * The bundle's tar stream as random-access bytes, without inflating the stored members, once
 * every member has checked out; undefined when the file is not laid out this way (a bundle
 * gzip'd by another tool, read as plain gzip instead).
 */
export async function bundleTar(file: ByteSource): Promise<ByteSource | undefined> {
  const segments: Segment[] = [];
  let start = 0;
  let inflated = 0;
  for (let at = 0; at < file.size;) {
    const head = parseMemberHeader(file.read(at, HEADER));
    if (!isMember(head)) {
      if (segments.length === 0) return undefined;
      throw new FormatError("bundle", `bytes at offset ${at} are not a bundle member (nothing may follow the last)`);
    }
    if (segments.length >= MAX_MEMBERS)
      throw new FormatError("bundle", `more than ${MAX_MEMBERS} members: not a bundle mkbundle wrote`);
    const field = head.extra.get("MK")!;
    const length = Number(field.readBigUInt64LE(0));
    const kind = field[8];
    if (length < HEADER + TRAILER || at + length > file.size)
      throw new FormatError("bundle", `member at offset ${at} claims ${length} bytes, past the end of the file`);
    const body = at + HEADER;
    const bodyLength = length - HEADER - TRAILER;
    const where = `bundle member at offset ${at}`;
    if (kind === KIND_DEFLATED) {
      if (bodyLength > MAX_DEFLATED - inflated)
        throw new FormatError("bundle", `deflated members hold more than ${MAX_DEFLATED} bytes`);
      const bytes = inflateExact(
        file.read(body, bodyLength),
        file.read(body + bodyLength, TRAILER),
        MAX_DEFLATED - inflated,
        where,
      );
      inflated += bytes.length;
      segments.push({ start, size: bytes.length, bytes });
      start += bytes.length;
    } else if (kind === KIND_STORED) {
      const size = await checkStoredBody(file, body, bodyLength, where);
      segments.push({ start, size, at: body });
      start += size;
    } else throw new FormatError("bundle", `member at offset ${at} has an unknown kind ${kind}`);
    at += length;
  }
  return segmentSource(file, segments, start);
}

/** The segments as one source: stored data read in place, block by block. */
function segmentSource(file: ByteSource, segments: readonly Segment[], total: number): ByteSource {
  /** Bytes of segment `s` from `offset` into `target`; returns how many. */
  const segmentInto = (s: Segment, offset: number, target: Buffer): number => {
    if ("bytes" in s) return s.bytes.copy(target, 0, offset, offset + target.length);
    let done = 0;
    while (done < target.length) {
      const block = Math.floor(offset / STORED_BLOCK);
      const within = offset % STORED_BLOCK;
      const k = Math.min(target.length - done, STORED_BLOCK - within, s.size - offset);
      if (k <= 0) break;
      const place = s.at + block * (STORED_BLOCK + STORED_HEAD) + STORED_HEAD + within;
      const got = readInto(file, target.subarray(done, done + k), place);
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
