// The ELF file header, checked, and bounded access to the rest of the file: what the program
// reader (reader.ts) and the kernel module reader (kernel-module.ts) both start from.
// Little-endian 32- and 64-bit; big-endian is refused.
import { FormatError } from "../../errors.js";
import type { ByteSource } from "../../io/byte-source.js";

const ELF_MAGIC = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);
export const isElf = (head: Buffer): boolean => head.length >= 4 && head.subarray(0, 4).equals(ELF_MAGIC);

export interface ElfHeader {
  bits: 32 | 64;
  wide: boolean;
  /** e_type: 1 relocatable (a kernel module), 2 executable, 3 shared object (or PIE). */
  type: number;
  machine: number;
  /** The header's bytes (64, or 52 for a 32-bit file at least). */
  header: Buffer;
  bad: (why: string) => FormatError;
  /** `n` bytes at `at`, or a FormatError when they are not all in the file. */
  read: (at: number, n: number, what?: string) => Buffer;
  /** A 32-bit field, or (wide) a 64-bit one that must fit a safe integer. */
  num: (b: Buffer, at: number, wide: boolean) => number;
}

export function elfHeader(src: ByteSource, label: string): ElfHeader {
  const bad = (why: string) => new FormatError("elf", `${label}: ${why}`);
  const read = (at: number, n: number, what = "a header") => {
    if (at < 0 || n < 0 || at + n > src.size)
      throw bad(`${what} points past the end of the file (${at}+${n} > ${src.size})`);
    return src.read(at, n);
  };
  const h = read(0, Math.min(64, src.size));
  if (!isElf(h)) throw bad("not an ELF file (bad magic)");
  if (h.length < 52) throw bad("truncated ELF header");
  if (h[4] !== 1 && h[4] !== 2) throw bad(`unknown ELF class ${h[4]}`);
  if (h[5] !== 1) throw bad(h[5] === 2 ? "big-endian ELF is not supported" : `unknown data encoding ${h[5]}`);
  const bits = h[4] === 1 ? 32 : 64;
  if (bits === 64 && h.length < 64) throw bad("truncated ELF header");
  const num = (b: Buffer, at: number, wide: boolean): number => {
    if (!wide) return b.readUInt32LE(at);
    const v = b.readBigUInt64LE(at);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw bad("a 64-bit field is out of range");
    return Number(v);
  };
  return {
    bits,
    wide: bits === 64,
    type: h.readUInt16LE(16),
    machine: h.readUInt16LE(18),
    header: h,
    bad,
    read,
    num,
  };
}
