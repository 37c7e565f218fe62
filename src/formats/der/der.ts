// ASN.1 DER, as much as Authenticode needs: writing tag-length-value, object identifiers and
// integers; reading the elements of a structure (a certificate's issuer and serial number)
// within the bytes given, every length checked against them.
import { FormatError } from "../../errors.js";

function lengthBytes(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** One element: its tag, its length, its contents. */
export const tlv = (tag: number, ...contents: Buffer[]): Buffer => {
  const body = Buffer.concat(contents);
  return Buffer.concat([Buffer.from([tag]), lengthBytes(body.length), body]);
};

export const sequence = (...items: Buffer[]): Buffer => tlv(0x30, ...items);
/** A SET OF, its elements in DER's order (by their encodings). */
export const setOf = (...items: Buffer[]): Buffer => tlv(0x31, ...[...items].sort((a, b) => Buffer.compare(a, b)));
export const octetString = (b: Buffer): Buffer => tlv(0x04, b);
const NULL = Buffer.from([0x05, 0x00]);
/** [n], constructed: an explicit tag around its contents (or an implicit one replacing a SET's). */
export const tagged = (n: number, ...contents: Buffer[]): Buffer => tlv(0xa0 | n, ...contents);

export function integer(n: number): Buffer {
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  if (!bytes.length || bytes[0]! & 0x80) bytes.unshift(0);
  return tlv(0x02, Buffer.from(bytes));
}

export function oid(dotted: string): Buffer {
  const arcs = dotted.split(".").map(Number);
  const out: number[] = [40 * arcs[0]! + arcs[1]!];
  for (const arc of arcs.slice(2)) {
    const base128: number[] = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) base128.unshift(0x80 | (v & 0x7f));
    out.push(...base128);
  }
  return tlv(0x06, Buffer.from(out));
}

/** An AlgorithmIdentifier with NULL parameters. */
export const algorithm = (dotted: string): Buffer => sequence(oid(dotted), NULL);

export interface Element {
  tag: number;
  /** The whole element, tag and length included. */
  raw: Buffer;
  /** Its contents. */
  body: Buffer;
}

/** The element at `at` of `b`; its length must fit in `b`. */
export function readElement(b: Buffer, at = 0, what = "DER"): Element {
  if (at + 2 > b.length) throw new FormatError("der", `${what}: truncated at byte ${at}`);
  const tag = b[at]!;
  let len = b[at + 1]!;
  let head = 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || at + 2 + n > b.length) throw new FormatError("der", `${what}: a bad length at byte ${at}`);
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[at + 2 + i]!;
    head += n;
  }
  if (at + head + len > b.length)
    throw new FormatError("der", `${what}: an element of ${len} bytes at byte ${at} runs past the end`);
  return { tag, raw: b.subarray(at, at + head + len), body: b.subarray(at + head, at + head + len) };
}

/** The elements inside a constructed element's contents, in order. */
export function children(e: Element, what = "DER"): Element[] {
  const out: Element[] = [];
  for (let at = 0; at < e.body.length;) {
    const c = readElement(e.body, at, what);
    out.push(c);
    at += c.raw.length;
  }
  return out;
}
