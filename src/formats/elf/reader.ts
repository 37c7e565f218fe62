// ELF headers, as far as the dynamic loader looks: class, machine, type, the interpreter
// (PT_INTERP) and the dynamic section's DT_NEEDED, DT_SONAME, DT_RPATH and DT_RUNPATH.
// 32- and 64-bit little-endian; big-endian is refused. Only the file header, the program
// headers and the dynamic section are read, through a ByteSource; every offset, count and
// string index is checked against the file, so a hostile file is a FormatError, never an
// exception or a large allocation.
import type { FormatError } from "../../errors.js";
import type { ByteSource } from "../../io/byte-source.js";
import { elfHeader } from "./header.js";

export interface ElfInfo {
  bits: 32 | 64;
  /** e_machine: 3 = i386, 62 = x86-64, ... */
  machine: number;
  /** e_type: 2 executable, 3 shared object (or PIE). */
  type: number;
  interpreter?: string;
  needed: string[];
  soname?: string;
  rpath: string[];
  runpath: string[];
}

export const MACHINE_NAMES: Record<number, string> = { 3: "i386", 62: "x86-64", 40: "arm", 183: "aarch64" };

const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const PT_INTERP = 3;
const DT_NULL = 0;
const DT_NEEDED = 1;
const DT_STRTAB = 5;
const DT_STRSZ = 10;
const DT_SONAME = 14;
const DT_RPATH = 15;
const DT_RUNPATH = 29;
/** More program headers or dynamic entries than this is not a real program. */
const MAX_PHDRS = 4096;
const MAX_DYN = 65536;
const MAX_STRING = 4096;

export function readElf(src: ByteSource, label = "ELF file"): ElfInfo {
  const { bits, wide, type, machine, header: h, bad, read, num: u } = elfHeader(src, label);
  const phoff = u(h, wide ? 32 : 28, wide);
  const phentsize = h.readUInt16LE(wide ? 54 : 42);
  const phnum = h.readUInt16LE(wide ? 56 : 44);
  if (phnum > MAX_PHDRS) throw bad(`${phnum} program headers`);
  if (phnum && phentsize < (wide ? 56 : 32)) throw bad(`program header size ${phentsize} is too small`);
  const phs = phnum ? read(phoff, phnum * phentsize) : Buffer.alloc(0);
  const loads: { vaddr: number; offset: number; filesz: number }[] = [];
  let interp: { offset: number; size: number } | undefined;
  let dynamic: { offset: number; size: number } | undefined;
  for (let i = 0; i < phnum; i++) {
    const p = phs.subarray(i * phentsize, (i + 1) * phentsize);
    const ptype = p.readUInt32LE(0);
    const offset = wide ? u(p, 8, true) : p.readUInt32LE(4);
    const vaddr = wide ? u(p, 16, true) : p.readUInt32LE(8);
    const filesz = wide ? u(p, 32, true) : p.readUInt32LE(16);
    if (ptype === PT_LOAD) loads.push({ vaddr, offset, filesz });
    else if (ptype === PT_INTERP) interp = { offset, size: filesz };
    else if (ptype === PT_DYNAMIC) dynamic = { offset, size: filesz };
  }
  const info: ElfInfo = { bits, machine, type, needed: [], rpath: [], runpath: [] };
  if (interp) {
    if (interp.size > MAX_STRING) throw bad(`an interpreter path of ${interp.size} bytes`);
    info.interpreter = cString(read(interp.offset, interp.size), 0, bad);
  }
  if (!dynamic) return info;
  const entSize = wide ? 16 : 8;
  const count = Math.floor(dynamic.size / entSize);
  if (count > MAX_DYN) throw bad(`${count} dynamic entries`);
  const dyn = read(dynamic.offset, count * entSize);
  const entries: [number, number][] = [];
  for (let i = 0; i < count; i++) {
    const tag = wide ? u(dyn, i * 16, true) : dyn.readUInt32LE(i * 8);
    const val = wide ? u(dyn, i * 16 + 8, true) : dyn.readUInt32LE(i * 8 + 4);
    if (tag === DT_NULL) break;
    entries.push([tag, val]);
  }
  const strtabAddr = entries.find(([t]) => t === DT_STRTAB)?.[1];
  const strsz = entries.find(([t]) => t === DT_STRSZ)?.[1];
  if (strtabAddr === undefined || strsz === undefined) return info;
  // DT_STRTAB is a virtual address: the loadable segment holding it says where it is in the file.
  const seg = loads.find((l) => strtabAddr >= l.vaddr && strtabAddr < l.vaddr + l.filesz);
  if (!seg) throw bad("the dynamic string table is in no loadable segment");
  const strOff = seg.offset + (strtabAddr - seg.vaddr);
  const size = Math.min(strsz, seg.vaddr + seg.filesz - strtabAddr);
  if (size > 16 * 1024 * 1024) throw bad(`a dynamic string table of ${size} bytes`);
  const strtab = read(strOff, size);
  const str = (i: number) => {
    if (i >= strtab.length) throw bad(`a string index ${i} is past the string table (${strtab.length} bytes)`);
    return cString(strtab, i, bad);
  };
  for (const [tag, val] of entries) {
    if (tag === DT_NEEDED) info.needed.push(str(val));
    else if (tag === DT_SONAME) info.soname = str(val);
    else if (tag === DT_RPATH) info.rpath.push(...str(val).split(":").filter(Boolean));
    else if (tag === DT_RUNPATH) info.runpath.push(...str(val).split(":").filter(Boolean));
  }
  return info;
}

function cString(b: Buffer, at: number, bad: (why: string) => FormatError): string {
  const end = b.indexOf(0, at);
  const stop = end < 0 ? b.length : end;
  if (stop - at > MAX_STRING) throw bad("a string longer than 4096 bytes");
  return b.toString("utf8", at, stop);
}
