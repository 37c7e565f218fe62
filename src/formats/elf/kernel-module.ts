// A Linux kernel module (.ko, a relocatable ELF) as modinfo and depmod read it: the
// .modinfo strings (vermagic, depends, alias, firmware, name), the symbols it exports
// (__ksymtab_strings) and the ones it needs (undefined entries of .symtab, in table order,
// which is the order depmod adds dependencies in). Little-endian 32- and 64-bit. Every
// offset, size and index is checked against the file and bounded, so a hostile module is a
// FormatError, never an exception or a large allocation.
import { FormatError } from "../../errors.js";
import type { ByteSource } from "../../io/byte-source.js";
import { elfHeader } from "./header.js";

export interface KernelModule {
  bits: 32 | 64;
  machine: number;
  /** .modinfo's key=value strings, in order (a key may repeat: alias, firmware). */
  modinfo: [string, string][];
  exports: string[];
  /** Undefined symbols in .symtab order; weak ones do not make a dependency missing. */
  imports: { name: string; weak: boolean }[];
}

const ET_REL = 1;
const SHT_SYMTAB = 2;
const SHT_NOBITS = 8;
const STB_WEAK = 2;
const MAX_SECTIONS = 65_535;
/** .modinfo of a real module is a few KiB; this is far past any. */
export const MAX_MODINFO = 1024 * 1024;
/** Symbol and string tables: the largest modules (GPU drivers) have a few MiB. */
const MAX_TABLE = 64 * 1024 * 1024;

export function readKernelModule(src: ByteSource, label = "kernel module"): KernelModule {
  const { bits, wide, type, machine, header: h, bad, num, read: elfRead } = elfHeader(src, label);
  const read = (at: number, n: number) => elfRead(at, n, "a section");
  if (type !== ET_REL) throw bad("not a kernel module (an ELF file that is not relocatable)");
  const shoff = num(h, wide ? 40 : 32, wide);
  const shentsize = h.readUInt16LE(wide ? 58 : 46);
  const shnum = h.readUInt16LE(wide ? 60 : 48);
  const shstrndx = h.readUInt16LE(wide ? 62 : 50);
  if (shnum === 0 || shnum > MAX_SECTIONS) throw bad(`${shnum} sections`);
  if (shentsize < (wide ? 64 : 40)) throw bad(`section header size ${shentsize} is too small`);
  const table = read(shoff, shnum * shentsize);
  const sections = Array.from({ length: shnum }, (_, i) => {
    const s = table.subarray(i * shentsize, (i + 1) * shentsize);
    return {
      name: s.readUInt32LE(0),
      type: s.readUInt32LE(4),
      offset: num(s, wide ? 24 : 16, wide),
      size: num(s, wide ? 32 : 20, wide),
      link: s.readUInt32LE(wide ? 40 : 24),
      entsize: num(s, wide ? 56 : 36, wide),
    };
  });
  const bytesOf = (i: number, what: string, max: number): Buffer => {
    const s = sections[i];
    if (!s) throw bad(`${what}: section ${i} does not exist (${shnum} sections)`);
    if (s.type === SHT_NOBITS) return Buffer.alloc(0);
    if (s.size > max) throw bad(`${what} is ${s.size} bytes (at most ${max})`);
    return read(s.offset, s.size);
  };
  const names = bytesOf(shstrndx, "the section name table", MAX_TABLE);
  const nameOf = (i: number) => cString(names, sections[i]!.name, bad);
  const find = (name: string) => sections.findIndex((_, i) => nameOf(i) === name);

  const modinfoAt = find(".modinfo");
  if (modinfoAt < 0) throw bad("no .modinfo section: not a kernel module");
  const modinfo: [string, string][] = strings(bytesOf(modinfoAt, ".modinfo", MAX_MODINFO)).flatMap((s) => {
    const eq = s.indexOf("=");
    return eq > 0 ? [[s.slice(0, eq), s.slice(eq + 1)] as [string, string]] : [];
  });
  const ksymtab = find("__ksymtab_strings");
  const exports = ksymtab < 0 ? [] : strings(bytesOf(ksymtab, "__ksymtab_strings", MAX_TABLE));

  const imports: KernelModule["imports"] = [];
  const symtabAt = sections.findIndex((s) => s.type === SHT_SYMTAB);
  if (symtabAt >= 0) {
    const symtab = bytesOf(symtabAt, ".symtab", MAX_TABLE);
    const strtab = bytesOf(sections[symtabAt]!.link, "the symbol names (.strtab)", MAX_TABLE);
    const size = wide ? 24 : 16;
    if (sections[symtabAt]!.entsize !== size) throw bad(`symbol entries of ${sections[symtabAt]!.entsize} bytes`);
    for (let at = size; at + size <= symtab.length; at += size) {
      const shndx = symtab.readUInt16LE(at + (wide ? 6 : 14));
      if (shndx !== 0) continue;
      const name = cString(strtab, symtab.readUInt32LE(at), bad);
      const info = symtab[at + (wide ? 4 : 12)]!;
      if (name) imports.push({ name, weak: info >> 4 === STB_WEAK });
    }
  }
  return { bits, machine, modinfo, exports, imports };
}

/** NUL-separated strings; empty ones (alignment padding) dropped. */
const strings = (b: Buffer): string[] => b.toString("latin1").split("\0").filter(Boolean);

function cString(b: Buffer, at: number, bad: (why: string) => FormatError): string {
  if (at >= b.length && at !== 0) throw bad(`a name at ${at} is past its string table (${b.length} bytes)`);
  const end = b.indexOf(0, at);
  const stop = end < 0 ? b.length : end;
  if (stop - at > 4096) throw bad("a name longer than 4096 bytes");
  return b.toString("latin1", at, stop);
}

/** The first word of vermagic: the kernel release a module was built for. */
export const vermagicRelease = (m: KernelModule): string | undefined =>
  m.modinfo.find(([k]) => k === "vermagic")?.[1].split(" ")[0];

/** modinfo's values for a key, in order. */
export const modinfoValues = (m: KernelModule, key: string): string[] =>
  m.modinfo.filter(([k]) => k === key).map(([, v]) => v);
