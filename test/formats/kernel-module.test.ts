// The kernel module reader against kmod's modinfo and binutils' readelf, on real modules
// (the x86_64 fixture's and its Debian package's): the same vermagic, aliases, depends and
// firmware, the same exported names, the same undefined symbols in the same order. A
// truncated module, a section that claims more bytes than the file has, a .modinfo past the
// limit, a program instead of a module, and every single-byte corruption of a module's
// headers are one FormatError each.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FormatError } from "../../src/errors.js";
import { MAX_MODINFO, modinfoValues, readKernelModule, vermagicRelease } from "../../src/formats/elf/kernel-module.js";
import { bufferSource, fileSource } from "../../src/io/byte-source.js";
import { debModuleDir, FIXTURE_KERNEL } from "../helpers/kernel-modules.js";
import { q, sh } from "../helpers/run.js";
import { tempDir } from "../helpers/tmp.js";

const { dir } = tempDir("mkbundle-kmod-");
const MODULES = [
  "kernel/fs/ext4/ext4.ko",
  "kernel/drivers/net/ethernet/intel/e1000/e1000.ko",
  "kernel/drivers/net/wireless/intel/iwlwifi/iwlwifi.ko",
];
const lines = (s: string) => s.split("\n").filter(Boolean);

const refused = (bytes: Buffer): string => {
  try {
    readKernelModule(bufferSource(bytes), "m.ko");
  } catch (e) {
    expect(e).toBeInstanceOf(FormatError);
    return (e as FormatError).message;
  }
  return "read";
};

describe("readKernelModule", () => {
  it("reads what modinfo and readelf read", () => {
    const from = debModuleDir(dir, MODULES);
    for (const m of MODULES) {
      const file = join(from, m);
      const k = readKernelModule(fileSource(file), m);
      expect([k.bits, k.machine]).toEqual([64, 62]);
      expect(vermagicRelease(k)).toBe(FIXTURE_KERNEL);
      for (const field of ["alias", "depends", "firmware", "vermagic", "name"])
        expect(
          modinfoValues(k, field)
            .flatMap((v) => (field === "depends" ? v.split(",") : [v]))
            .filter(Boolean),
        ).toEqual(
          lines(sh(`modinfo -F ${field} ${q(file)}`).toString()).flatMap((v) =>
            field === "depends" ? v.split(",") : [v],
          ),
        );
      const exported = sh(`readelf -p __ksymtab_strings -W ${q(file)} 2>/dev/null || true`).toString();
      expect(k.exports.length).toBe(lines(exported).filter((l) => /^\s*\[\s*[0-9a-f]+\]/.test(l)).length);
      const undefinedSymbols = lines(
        sh(`readelf -sW ${q(file)} | awk '$7 == "UND" && $8 != "" { print $8 }'`).toString(),
      ).map((s) => s.replace(/@.*$/, ""));
      expect(k.imports.map((i) => i.name)).toEqual(undefinedSymbols);
    }
    const iwl = readKernelModule(fileSource(join(from, MODULES[2]!)), "iwlwifi.ko");
    expect(modinfoValues(iwl, "firmware").length).toBeGreaterThan(5);
  });

  it("refuses truncated, lying and hostile modules with one FormatError", () => {
    const good = readFileSync(join(debModuleDir(dir, MODULES), MODULES[1]!));
    expect(refused(good)).toBe("read");
    const shoff = Number(good.readBigUInt64LE(40));
    const shnum = good.readUInt16LE(60);
    // (A signed module's signature follows its sections: only a cut into them matters.)
    for (const cut of [0, 3, 40, 63, 64, good.length / 2, shoff + 100, shoff + 64 * shnum - 1])
      expect(refused(good.subarray(0, Math.floor(cut)))).toMatch(/^elf: m\.ko: /);
    const shdr = (i: number) => shoff + 64 * i;
    const strings = Number(good.readBigUInt64LE(shdr(good.readUInt16LE(62)) + 24));
    const nameOf = (i: number) => {
      const at = strings + good.readUInt32LE(shdr(i));
      return good.toString("latin1", at, good.indexOf(0, at));
    };
    const modinfo = [...Array(shnum).keys()].find((i) => nameOf(i) === ".modinfo")!;
    const lying = Buffer.from(good);
    lying.writeBigUInt64LE(BigInt(good.length * 4), shdr(modinfo) + 32);
    expect(refused(lying)).toMatch(/\.modinfo is \d+ bytes \(at most 1048576\)|past the end of the file/);
    const huge = Buffer.from(good);
    huge.writeBigUInt64LE(BigInt(MAX_MODINFO + 1), shdr(modinfo) + 32);
    expect(refused(huge)).toContain(`.modinfo is ${MAX_MODINFO + 1} bytes (at most ${MAX_MODINFO})`);
    const sections = Buffer.from(good);
    sections.writeBigUInt64LE(BigInt(good.length), 40);
    expect(refused(sections)).toContain("past the end of the file");
    const program = Buffer.from(good);
    program.writeUInt16LE(2, 16);
    expect(refused(program)).toContain("not a kernel module");
    expect(refused(readFileSync("/bin/sh"))).toContain("not a kernel module");
    expect(refused(Buffer.from("not an ELF file at all"))).toContain("bad magic");
    // Every byte of the ELF header and the section header table, flipped: read or refused, never thrown otherwise.
    const offsets = [...Array(64).keys(), ...[...Array(shnum * 64).keys()].map((i) => shoff + i)];
    for (const at of offsets) {
      const bad = Buffer.from(good);
      bad[at] = bad[at]! ^ 0xff;
      refused(bad);
    }
  });
});
