// The ELF reader against readelf: on every ELF file of both fixtures' initrds and extensions,
// the interpreter, DT_NEEDED, DT_SONAME and DT_RUNPATH/DT_RPATH it reads are readelf's; hostile
// headers are a FormatError; mutation fuzzing finds no other exception.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FormatError, MkError } from "../../src/errors.js";
import { readCpio } from "../../src/formats/cpio/reader.js";
import { readElf, type ElfInfo } from "../../src/formats/elf/reader.js";
import { gunzipSource } from "../../src/formats/gzip/inflate.js";
import { readIso } from "../../src/formats/iso9660/reader.js";
import { readSquashfs } from "../../src/formats/squashfs/reader.js";
import { bufferSource, fileSource } from "../../src/io/byte-source.js";
import { collect, readContent, type Entry } from "../../src/tree/entry.js";
import { fixturesDir } from "../helpers/paths.js";
import { q, sh } from "../helpers/run.js";
import { tempDir } from "../helpers/tmp.js";

const { dir } = tempDir("mkbundle-elf-");
const CASES = Number(process.env["MKBUNDLE_FUZZ_CASES"] ?? 3000);

/** Every ELF regular file of the fixture's initrd and extensions: name and bytes. */
async function fixtureElves(series: string, iso: string, initrd: string): Promise<{ name: string; bytes: Buffer }[]> {
  const out: { name: string; bytes: Buffer }[] = [];
  const take = (label: string, entries: Entry[]) => {
    for (const e of entries)
      if (e.type === "file" && e.size >= 64) {
        const b = readContent(e);
        if (b.subarray(0, 4).equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46])))
          out.push({ name: `${label}:${e.path}`, bytes: b });
      }
  };
  const root = join(fixturesDir(), "tinycore", series);
  const isoSrc = fileSource(join(root, "release", iso));
  try {
    const files = await collect((await readIso(isoSrc)).entries);
    const gz = files.find((e) => e.path === `boot/${initrd}`)!;
    const cpio = await gunzipSource(bufferSource(readContent(gz)));
    take(initrd, await collect(readCpio(cpio.read(0, cpio.size))));
  } finally {
    isoSrc.close();
  }
  for (const tcz of sh(`ls ${q(join(root, "tcz"))}`)
    .toString()
    .split("\n")
    .filter((n) => n.endsWith(".tcz"))) {
    const src = fileSource(join(root, "tcz", tcz));
    try {
      take(tcz, await collect(readSquashfs(src)));
    } finally {
      src.close();
    }
  }
  return out;
}

/** readelf's view of the same fields. */
function readelfView(path: string): Pick<ElfInfo, "interpreter" | "needed" | "soname" | "runpath" | "rpath"> {
  const d = sh(`readelf -d -W ${q(path)} 2>/dev/null || true`).toString();
  const l = sh(`readelf -l -W ${q(path)} 2>/dev/null || true`).toString();
  const all = (tag: string) => [...d.matchAll(new RegExp(`\\(${tag}\\)\\s+\\S+.*?\\[(.*)\\]`, "g"))].map((m) => m[1]!);
  const interp = /Requesting program interpreter: (.*)\]/.exec(l)?.[1];
  const soname = all("SONAME")[0];
  return {
    ...(interp ? { interpreter: interp } : {}),
    needed: all("NEEDED"),
    ...(soname ? { soname } : {}),
    runpath: all("RUNPATH").flatMap((p) => p.split(":").filter(Boolean)),
    rpath: all("RPATH").flatMap((p) => p.split(":").filter(Boolean)),
  };
}

describe("ELF reader", () => {
  for (const [series, iso, initrd] of [
    ["4.x/x86", "Core-4.4.iso", "core.gz"],
    ["10.x/x86_64", "CorePure64-10.1.iso", "corepure64.gz"],
  ] as const) {
    it(`agrees with readelf on every ELF file of the ${series} fixture`, async () => {
      const elves = await fixtureElves(series, iso, initrd);
      expect(elves.length).toBeGreaterThan(5);
      let checked = 0;
      const seen = new Set<string>();
      for (const { name, bytes } of elves) {
        const key = `${bytes.length}:${bytes.subarray(0, 256).toString("hex")}`;
        if (seen.has(key)) continue; // busybox links and copies: one check each
        seen.add(key);
        const file = join(dir, "elf.bin");
        writeFileSync(file, bytes);
        const ours = readElf(bufferSource(bytes), name);
        const theirs = readelfView(file);
        expect(
          {
            interpreter: ours.interpreter,
            needed: ours.needed,
            soname: ours.soname,
            runpath: ours.runpath,
            rpath: ours.rpath,
          },
          name,
        ).toEqual({
          interpreter: theirs.interpreter,
          needed: theirs.needed,
          soname: theirs.soname,
          runpath: theirs.runpath,
          rpath: theirs.rpath,
        });
        expect(ours.bits).toBe(series.startsWith("10") ? 64 : 32);
        checked++;
      }
      console.log(`ELF: ${checked} distinct files of the ${series} fixture agree with readelf`);
    }, 120_000);
  }

  it("refuses hostile headers with a FormatError", () => {
    const good = readFileSync(process.execPath).subarray(0, 1 << 20);
    const refuse = (b: Buffer, says: RegExp) => expect(() => readElf(bufferSource(b), "x")).toThrow(says);
    refuse(good.subarray(0, 30), /truncated ELF header/);
    refuse(Buffer.from("not an elf at all, really not"), /bad magic/);
    const big = Buffer.from(good);
    big[5] = 2;
    refuse(big, /big-endian/);
    const phoff = Buffer.from(good);
    phoff.writeBigUInt64LE(0xffffffffn, 32);
    refuse(phoff, /past the end/);
    const phnum = Buffer.from(good);
    phnum.writeUInt16LE(0xffff, 56);
    refuse(phnum, /65535 program headers/);
  });

  it(`mutation fuzzing (${CASES} cases): a FormatError or a clean read, nothing else`, () => {
    const seed = readFileSync(process.execPath).subarray(0, 256 * 1024);
    let x = 12345;
    const r = () => (x = (x * 1103515245 + 12345) >>> 0) / 2 ** 32;
    const unexpected: string[] = [];
    let refused = 0;
    for (let i = 0; i < CASES; i++) {
      const b = Buffer.from(seed);
      for (let k = 0; k < 1 + Math.floor(r() * 4); k++) {
        const at = r() < 0.7 ? Math.floor(r() * 4096) : Math.floor(r() * b.length);
        b[at] = Math.floor(r() * 256);
      }
      const cut = r() < 0.1 ? b.subarray(0, Math.floor(r() * b.length)) : b;
      try {
        readElf(bufferSource(cut), "fuzz");
      } catch (e) {
        if (e instanceof FormatError || e instanceof MkError) refused++;
        else unexpected.push(`case ${i}: ${String(e)}`);
      }
    }
    expect(unexpected.slice(0, 3)).toEqual([]);
    expect(refused).toBeGreaterThan(0);
  });
});
