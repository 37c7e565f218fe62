// Reads a hand-written text file (manifest, lock, Razor list) as strict UTF-8: a file too
// large to be one, bytes that are not UTF-8, or a NUL byte are refused with their position
// instead of being silently replaced or truncated.
import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs";
import { problem, type Diagnostic } from "../errors.js";

/** Far above any real manifest or lock (a few KiB to a few hundred KiB); validation is linear below it. */
const MAX_TEXT_FILE_BYTES = 2 * 1024 * 1024;

export type TextFile = { text: string; problem?: undefined } | { text?: undefined; problem: Diagnostic };

export function readTextFile(file: string, what: string, maxBytes = MAX_TEXT_FILE_BYTES): TextFile {
  let bytes: Buffer;
  try {
    // O_NONBLOCK: a FIFO named by mistake must not block the open.
    const fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      const st = fstatSync(fd);
      if (st.isDirectory()) return { problem: problem(file, `${what} is a directory`) };
      if (!st.isFile()) return { problem: problem(file, `${what} is not a regular file`) };
      if (st.size > maxBytes)
        return {
          problem: problem(
            file,
            `${what} is ${st.size} bytes; the limit is ${maxBytes}`,
            "check that this is the file you meant",
          ),
        };
      bytes = Buffer.alloc(st.size);
      let got = 0;
      while (got < bytes.length) {
        const n = readSync(fd, bytes, got, bytes.length - got, got);
        if (n === 0) break;
        got += n;
      }
      bytes = bytes.subarray(0, got);
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    return { problem: problem(file, `${what} ${unreadable(e)}`) };
  }
  return decodeText(file, bytes);
}

function unreadable(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return "does not exist";
  if (code === "EISDIR") return "is a directory";
  if (code === "EACCES" || code === "EPERM") return "is not readable";
  return `cannot be read (${code ?? String(e)})`;
}

function decodeText(file: string, bytes: Buffer): TextFile {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    const offset = firstInvalidUtf8(bytes);
    return {
      problem: at(
        file,
        bytes,
        offset,
        `byte ${offset} is not valid UTF-8 (0x${hex(bytes[offset])})`,
        "save the file as UTF-8",
      ),
    };
  }
  const nul = bytes.indexOf(0);
  if (nul >= 0) return { problem: at(file, bytes, nul, `byte ${nul} is a NUL`, "a text file has no NUL bytes") };
  return { text };
}

const hex = (b: number | undefined) => (b ?? 0).toString(16).padStart(2, "0");

/** A diagnostic at a byte offset, with the line and column (in characters) that hold it. */
function at(file: string, bytes: Buffer, offset: number, message: string, hint: string): Diagnostic {
  const before = bytes.subarray(0, offset);
  let line = 1;
  let lineStart = 0;
  for (let i = before.indexOf(10); i >= 0; i = before.indexOf(10, i + 1)) {
    line++;
    lineStart = i + 1;
  }
  const column = Buffer.from(before.subarray(lineStart)).toString("utf8").length + 1;
  return { ...problem(file, message, hint), line, column };
}

/** Length and second-byte range of a UTF-8 sequence by its lead byte (RFC 3629, table 3-7). */
function sequence(lead: number): [extra: number, lo: number, hi: number] | undefined {
  if (lead >= 0xc2 && lead <= 0xdf) return [1, 0x80, 0xbf];
  if (lead === 0xe0) return [2, 0xa0, 0xbf];
  if (lead === 0xed) return [2, 0x80, 0x9f]; // no UTF-16 surrogates
  if (lead >= 0xe1 && lead <= 0xef) return [2, 0x80, 0xbf];
  if (lead === 0xf0) return [3, 0x90, 0xbf];
  if (lead >= 0xf1 && lead <= 0xf3) return [3, 0x80, 0xbf];
  if (lead === 0xf4) return [3, 0x80, 0x8f]; // nothing above U+10FFFF
  return undefined;
}

/** Offset of the first byte that does not start or continue a well-formed UTF-8 sequence. */
export function firstInvalidUtf8(b: Buffer): number {
  let i = 0;
  while (i < b.length) {
    if (b[i]! < 0x80) {
      i++;
      continue;
    }
    const seq = sequence(b[i]!);
    if (!seq) return i;
    const [extra, lo, hi] = seq;
    for (let k = 1; k <= extra; k++) {
      const x = b[i + k];
      const [l, h] = k === 1 ? [lo, hi] : [0x80, 0xbf];
      if (x === undefined || x < l || x > h) return i;
    }
    i += extra + 1;
  }
  return b.length;
}
