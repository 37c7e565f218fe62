// FAT both ways: images we write pass fsck.fat and read back byte for byte through mtools;
// images mkfs.fat and mcopy write read back through our reader; hostile images are refused.
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { bufferSource } from "../../src/io/byte-source.js";
import { isFat, readFat } from "../../src/formats/fat/reader.js";
import { fatImage, type FatOptions } from "../../src/formats/fat/writer.js";
import { fileEntry, readContent, type Entry } from "../../src/tree/entry.js";
import { q, sh } from "../helpers/run.js";
import { tempDir } from "../helpers/tmp.js";

const { dir } = tempDir("mkbundle-fat-");
const EPOCH = 1560098767; // 2019-06-09 16:46:07 UTC
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const file = (path: string, data: Buffer): Entry => fileEntry(path, data, EPOCH);
const dirEntry = (path: string): Entry => ({ path, type: "dir", mode: 0o755, uid: 0, gid: 0, mtime: EPOCH, size: 0 });

/** What an ESP holds, plus names that need long-name entries, aliases that collide, Unicode, empties. */
function espContent(big = 3 * 1024 * 1024 + 123): Entry[] {
  return [
    file("EFI/BOOT/BOOTX64.EFI", randomBytes(140_891)),
    file("loader/loader.conf", Buffer.from("timeout 0\ndefault mkbundle.conf\n")),
    file("loader/entries/mkbundle.conf", Buffer.from("title x\nlinux /boot/vmlinuz64\ninitrd /boot/corepure64.gz\n")),
    file("boot/vmlinuz64", randomBytes(big)),
    file("boot/corepure64.gz", randomBytes(1_000_001)),
    file("boot/longfilename1.txt", Buffer.from("one")),
    file("boot/longfilename2.txt", Buffer.from("two")),
    file("boot/a name with spaces and a very long tail that needs several entries.text", Buffer.from("long")),
    file("boot/résumé ünïcode.txt", Buffer.from("unicode")),
    file("boot/empty", Buffer.alloc(0)),
    dirEntry("empty-dir"),
    file("deep/a/b/c/d/e/f.txt", Buffer.from("deep")),
  ];
}

async function write(
  name: string,
  entries: Entry[],
  opts: Partial<FatOptions> = {},
): Promise<{ path: string; bytes: Buffer; type: number }> {
  const img = fatImage(entries, { serial: 0x1234abcd, epoch: EPOCH, label: "MKBUNDLE", ...opts });
  const parts: Buffer[] = [];
  for await (const c of img.stream()) parts.push(c);
  const bytes = Buffer.concat(parts);
  expect(bytes.length).toBe(img.size);
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return { path, bytes, type: img.geometry.type };
}

/** Every file of the image as mtools reads it: path -> sha256. */
function mtoolsFiles(image: string): Map<string, string> {
  const out = join(dir, `mcopy-${sha(Buffer.from(image)).slice(0, 8)}`);
  sh(`rm -rf ${q(out)} && mkdir -p ${q(out)} && MTOOLS_SKIP_CHECK=1 mcopy -s -n -i ${q(image)} '::*' ${q(out)}/`);
  const files = sh(`cd ${q(out)} && find . -type f | sort`)
    .toString()
    .split("\n")
    .filter(Boolean);
  return new Map(files.map((f) => [f.slice(2), sha(readFileSync(join(out, f)))]));
}

describe("FAT writer, read by dosfstools and mtools", () => {
  for (const type of [undefined, 12, 16, 32] as const) {
    it(`${type ? `FAT${type}` : "the smallest FAT"}: fsck.fat finds nothing, mcopy reads every file back byte for byte`, async () => {
      const content = espContent();
      const { path, type: got } = await write(`w${type ?? "auto"}.img`, content, type ? { type } : {});
      if (type) expect(got).toBe(type);
      const fsck = sh(`fsck.fat -n -v ${q(path)}`).toString();
      expect(fsck).toMatch(new RegExp(`${got} bit entries`));
      expect(fsck).not.toMatch(/differ|invalid|bad|free cluster summary wrong/i);
      const want = new Map(content.filter((e) => e.type === "file").map((e) => [e.path, sha(readContent(e))]));
      expect(mtoolsFiles(path)).toEqual(want);
      // mdir shows the volume label and the long names.
      const listing = sh(`MTOOLS_SKIP_CHECK=1 mdir -i ${q(path)} ::/boot`).toString();
      expect(listing).toMatch(/Volume in drive : is MKBUNDLE/);
      expect(listing).toContain("a name with spaces and a very long tail that needs several entries.text");
      expect(sh(`MTOOLS_SKIP_CHECK=1 minfo -i ${q(path)} ::`).toString()).toMatch(/serial number: 1234ABCD/i);
    });
  }

  it("chooses FAT12 for a small ESP and FAT16 when the clusters need it, never within 16 of a boundary", async () => {
    expect((await write("small.img", [file("EFI/BOOT/BOOTX64.EFI", randomBytes(200_000))])).type).toBe(12);
    expect((await write("mid.img", espContent(20 * 1024 * 1024))).type).toBe(16);
  });

  it("writes the same bytes twice, and different bytes for another serial only where the serial lives", async () => {
    const content = espContent();
    const a = await write("a.img", content);
    const b = await write("b.img", content);
    expect(sha(a.bytes)).toBe(sha(b.bytes));
    const c = await write("c.img", content, { serial: 0x99 });
    const differ = [...a.bytes.keys()].filter((i) => a.bytes[i] !== c.bytes[i]);
    expect(differ.every((i) => i >= 39 && i < 43)).toBe(true);
  });

  it("files aligned to CD sectors: every file starts on 2 KiB, its bytes lie there whole, fsck.fat agrees", async () => {
    const content = espContent();
    const img = fatImage(content, { serial: 1, epoch: EPOCH, alignFiles: 2048 });
    const { path, bytes } = await write("aligned.img", content, { alignFiles: 2048 });
    expect(sh(`fsck.fat -n ${q(path)}; echo "rc=$?"`).toString()).toMatch(/rc=0\s*$/);
    for (const e of content.filter((x) => x.type === "file" && x.size > 0)) {
      const at = img.fileOffsets.get(e.path)!;
      expect(at % 2048, e.path).toBe(0);
      expect(bytes.subarray(at, at + e.size).equals(readContent(e)), e.path).toBe(true);
    }
    expect(() => fatImage(content, { serial: 1, epoch: EPOCH, alignFiles: 3000 })).toThrow(/cannot be aligned to 3000/);
  });

  it("dates every entry from the entries (UTC), as mtools shows them", async () => {
    const { path } = await write("dates.img", [file("A.TXT", Buffer.from("a"))]);
    expect(sh(`MTOOLS_SKIP_CHECK=1 mdir -i ${q(path)} ::/A.TXT`).toString()).toMatch(/2019-06-09\s+16:46/);
  });

  it("refuses what FAT cannot hold, naming it", () => {
    const link: Entry = { path: "l", type: "symlink", mode: 0o777, uid: 0, gid: 0, mtime: 0, size: 0, linkTarget: "x" };
    expect(() => fatImage([link], { serial: 1, epoch: EPOCH })).toThrow(/'l' is a symlink/);
    expect(() => fatImage([file("a:b", Buffer.from("x"))], { serial: 1, epoch: EPOCH })).toThrow(
      /'a:b' holds a character/,
    );
    expect(() =>
      fatImage([file("A", Buffer.from("x")), file("a", Buffer.from("y"))], { serial: 1, epoch: EPOCH }),
    ).toThrow(/appears twice/);
  });
});

describe("FAT reader", () => {
  it("reads our images back: names, sizes, dates and data", async () => {
    for (const type of [12, 16, 32] as const) {
      const content = espContent();
      const { bytes } = await write(`r${type}.img`, content, { type });
      expect(isFat(bytes)).toBe(true);
      const { label, entries } = await readFat(bufferSource(bytes));
      expect(label).toBe("MKBUNDLE");
      for (const e of content) {
        const got = entries.find((x) => x.path === e.path)!;
        expect(got, e.path).toBeDefined();
        expect(got.type).toBe(e.type);
        expect(got.mtime).toBe(EPOCH - 1); // 2-second steps
        if (e.type === "file") expect(sha(readContent(got))).toBe(sha(readContent(e)));
      }
    }
  });

  for (const fatType of [12, 16, 32]) {
    it(`reads what mkfs.fat -F ${fatType} and mcopy wrote`, async () => {
      const img = join(dir, `mkfs${fatType}.img`);
      const src = join(dir, `src${fatType}`);
      mkdirSync(join(src, "EFI/BOOT"), { recursive: true });
      const files = {
        "EFI/BOOT/BOOTX64.EFI": randomBytes(70_000),
        "Long File Name.conf": Buffer.from("long"),
        "lower.txt": Buffer.from("lower"),
        "SHORT.TXT": Buffer.from("short"),
      };
      for (const [p, b] of Object.entries(files)) writeFileSync(join(src, p), b);
      const blocks = fatType === 32 ? 40000 : fatType === 16 ? 20000 : 4000;
      sh(
        `rm -f ${q(img)} && mkfs.fat -F ${fatType} ${fatType === 32 ? "-s 1" : ""} -n ESPTEST -C ${q(img)} ${blocks} >/dev/null`,
      );
      sh(`MTOOLS_SKIP_CHECK=1 mcopy -s -i ${q(img)} ${q(src)}/* ::/`);
      const { label, entries } = await readFat(bufferSource(readFileSync(img)));
      expect(label).toBe("ESPTEST");
      for (const [p, b] of Object.entries(files)) {
        const e = entries.find((x) => x.path === p);
        expect(e, p).toBeDefined();
        expect(sha(readContent(e!))).toBe(sha(b));
      }
    });
  }
});

describe("FAT reader, hostile images", () => {
  const base = async () =>
    (
      await write("hostile-base.img", [file("A.TXT", randomBytes(5000)), file("D/B.TXT", Buffer.from("b"))], {
        type: 16,
      })
    ).bytes;
  const expectRefused = (bytes: Buffer, message: RegExp) =>
    expect(readFat(bufferSource(bytes))).rejects.toThrow(message);

  it("a truncated image", async () => {
    const b = await base();
    await expectRefused(b.subarray(0, 300), /boot sector is truncated/);
    await expectRefused(b.subarray(0, b.length / 2), /claims \d+ bytes; the image has/);
  });

  it("a boot sector with nonsense sizes", async () => {
    const b = Buffer.from(await base());
    b[13] = 3;
    await expectRefused(b, /sectors per cluster/);
    const c = Buffer.from(await base());
    c.writeUInt16LE(0xffff, 22);
    await expectRefused(c, /claims|leave no room|cannot map/);
  });

  it("a cluster chain that loops, leaves the volume or breaks", async () => {
    const b = await base();
    const fatAt = b.readUInt16LE(14) * 512;
    // A.TXT is the first file after the directory D: find its first cluster from the root entry.
    const rootAt = (b.readUInt16LE(14) + 2 * b.readUInt16LE(22)) * 512;
    const entryAt = [...Array(16).keys()]
      .map((i) => rootAt + i * 32)
      .find((o) => b.toString("latin1", o, o + 11) === "A       TXT")!;
    const first = b.readUInt16LE(entryAt + 26);
    const loop = Buffer.from(b);
    loop.writeUInt16LE(first, fatAt + (first + 1) * 2);
    await expectRefused(loop, /chain loops at cluster/);
    const out = Buffer.from(b);
    out.writeUInt16LE(0xfff0, fatAt + first * 2);
    await expectRefused(out, /outside the volume/);
    const broken = Buffer.from(b);
    broken.writeUInt16LE(0, fatAt + first * 2);
    await expectRefused(broken, /breaks at cluster/);
    const huge = Buffer.from(b);
    huge.writeUInt32LE(0xfffffff0, entryAt + 28);
    await expectRefused(huge, /is 4294967280 bytes but its chain holds/);
  });

  it("a directory that contains itself", async () => {
    const b = Buffer.from(await base());
    const rootAt = (b.readUInt16LE(14) + 2 * b.readUInt16LE(22)) * 512;
    const entryAt = [...Array(16).keys()]
      .map((i) => rootAt + i * 32)
      .find((o) => b.toString("latin1", o, o + 11) === "D          ")!;
    const dCluster = b.readUInt16LE(entryAt + 26);
    const dataStart = rootAt + b.readUInt16LE(17) * 32;
    const dAt = dataStart + (dCluster - 2) * b[13]! * 512;
    // Turn D's "B.TXT" into a subdirectory pointing back at D.
    const bAt = dAt + 64;
    b[bAt + 11] = 0x10;
    b.writeUInt16LE(dCluster, bAt + 26);
    await expectRefused(b, /reuses the clusters of another/);
  });

  it("a long name with a slash in it", async () => {
    const { bytes } = await write("slash.img", [file("long name.txt", Buffer.from("x"))], { type: 12 });
    const b = Buffer.from(bytes);
    const at = b.indexOf(Buffer.from("l\0o\0n\0g\0", "latin1"));
    b.writeUInt16LE("/".charCodeAt(0), at);
    // The long name no longer matches its checksum? It does: the checksum covers the short name only.
    await expectRefused(b, /invalid name '\/ong name.txt'/);
  });

  it("a long name '.' or '..', which would hide a directory from every listing", async () => {
    for (const name of [".", ".."]) {
      const { bytes } = await write("dots.img", [file("long name.txt", Buffer.from("x"))], { type: 12 });
      const b = Buffer.from(bytes);
      const entry = b.indexOf(Buffer.from("l\0o\0n\0g\0", "latin1")) - 1;
      // The 13 UCS-2 characters of this entry: the name, a NUL, then 0xFFFF padding.
      const slots = [1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30];
      slots.forEach((o, i) => b.writeUInt16LE(i < name.length ? 0x2e : i === name.length ? 0 : 0xffff, entry + o));
      await expectRefused(b, new RegExp(`invalid name '${name.replace(/\./g, "\\.")}'`));
    }
  });
});
