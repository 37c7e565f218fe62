// ISO 9660 both ways: images from xorriso and genisoimage read like xorriso and osirrox read
// them; our images read identically by xorriso, isoinfo, bsdtar and 7z.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { bufferSource } from "../../src/io/byte-source.js";
import { hasHybridMbr } from "../../src/formats/iso9660/hybrid.js";
import { openIso, readIso } from "../../src/formats/iso9660/reader.js";
import { writeIso, type IsoWriteOptions } from "../../src/formats/iso9660/writer.js";
import { writeFileAtomic } from "../../src/io/write-atomic.js";
import { formatLine, toListed } from "../../src/inspect/format-listing.js";
import { readContent, type Entry } from "../../src/tree/entry.js";
import { fixturesDir } from "../helpers/paths.js";
import { q, sh } from "../helpers/run.js";
import { tempDir } from "../helpers/tmp.js";
import { makeEveryTypeTree, summarizeDisk, summarizeEntries, type Summary } from "../helpers/tree.js";

const { dir } = tempDir("mkbundle-iso-");
const tree = join(dir, "tree");
const fixtureIso = () => join(fixturesDir(), "tinycore/4.x/x86/release/Core-4.4.iso");
/** ISO readers see hard links as files sharing data; compare everything else. */
const noLinks = (s: Summary[]) => s.map(({ links: _l, ...rest }) => rest);

/** `xorriso -find -exec lsdl` as "mode uid gid size path[ -> target]" (size only for files and devices). */
function xorrisoListing(image: string): string[] {
  return sh(`xorriso -indev ${q(image)} -find / -exec lsdl 2>/dev/null`)
    .toString()
    .split("\n")
    .filter((l) => /^[-dlcbpse][-rwxsStT]{9} /.test(l))
    .map((l) => {
      const m = /^(\S{10})\s+\d+\s+(\d+)\s+(\d+)\s+(\S+)\s+\w{3}\s+\d+\s+\S+\s+'(.*?)'(?: -> '(.*)')?$/.exec(l)!;
      const size = /^[-cbe]/.test(m[1]!) ? m[4] : "-";
      return `${m[1]!.replace(/^e/, "-")} ${m[2]} ${m[3]} ${size} ${m[5] === "/" ? "." : m[5]!.slice(1)}${m[6] !== undefined ? ` -> ${m[6]}` : ""}`;
    });
}

function ourListing(entries: Entry[]): string[] {
  const byPath = new Map(entries.map((e) => [e.path, e]));
  return entries.map((e) => {
    const l = toListed(e, byPath);
    const [mode, uid, gid, size, , , ...rest] = formatLine(l).split(/\s+/);
    return `${mode} ${uid} ${gid} ${l.type === "file" || l.type === "char" || l.type === "block" ? size : "-"} ${rest.join(" ")}`;
  });
}

/** The extent of a file, from isoinfo's Rock Ridge listing. */
function lbaOf(image: Buffer, path: string): number {
  const file = join(dir, "lba-probe.iso");
  writeFileSync(file, image);
  const slash = path.lastIndexOf("/");
  const listing = sh(`isoinfo -R -l -i ${q(file)}`)
    .toString()
    .split("\nDirectory listing of /");
  const section = listing.find((s) => s.startsWith(slash < 0 ? "\n" : `${path.slice(0, slash)}/\n`))!;
  const m = new RegExp(
    `\\[\\s*(\\d+) 00\\]  ${path.slice(slash + 1).replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} ?$`,
    "m",
  ).exec(section)!;
  return Number(m[1]);
}

async function treeEntries(path: string): Promise<Entry[]> {
  return (await readIso(bufferSource(readFileSync(path)))).entries;
}

beforeAll(() => {
  makeEveryTypeTree(tree, { socket: true });
  mkdirSync(join(tree, "boot/isolinux"), { recursive: true });
  writeFileSync(join(tree, "boot/isolinux/isolinux.bin"), readFileSync("/usr/lib/ISOLINUX/isolinux.bin"));
});

describe("reading ISOs made by other tools", () => {
  const variants: [string, string][] = [
    ["xorriso -R -J", "xorriso -as mkisofs -l -J -R"],
    [
      "xorriso -R -J with El Torito",
      "xorriso -as mkisofs -l -J -R -no-emul-boot -boot-load-size 4 -boot-info-table -b boot/isolinux/isolinux.bin -c boot/isolinux/boot.cat",
    ],
    [
      "xorriso hybrid",
      "xorriso -as mkisofs -l -J -R -no-emul-boot -boot-load-size 4 -boot-info-table -b boot/isolinux/isolinux.bin -c boot/isolinux/boot.cat -isohybrid-mbr /usr/lib/ISOLINUX/isohdpfx.bin",
    ],
    ["genisoimage -R -J", "genisoimage -quiet -R -J"],
  ];
  for (const [name, cmd] of variants) {
    it(`${name}: same paths, sizes, modes and bytes as xorriso and osirrox`, async () => {
      const image = join(dir, `${name.replace(/\W+/g, "_")}.iso`);
      sh(`${cmd} -o ${q(image)} ${q(tree)} 2>/dev/null`);
      const img = await readIso(bufferSource(readFileSync(image)));
      expect(img.naming).toBe("rockridge");
      const catalog = img.boot?.catalogPath;
      const entries = img.entries.filter((e) => e.path !== catalog);
      // xorriso reads genisoimage's device numbers (high = major, low = minor) as one
      // dev_t and gets them wrong; Linux and we read them as genisoimage meant.
      const devices = (l: string[]) => (name.startsWith("genisoimage") ? l.filter((x) => !/^[cb]/.test(x)) : l).sort();
      expect(devices(ourListing(img.entries))).toEqual(devices(xorrisoListing(image)));
      // Everything the tree on disk had, with times and device numbers (xorriso patched
      // the boot-info-table into isolinux.bin)...
      const unpatched = (s: Summary[]) =>
        noLinks(s).filter((x) => !(cmd.includes("-boot-info-table") && x.path === "boot/isolinux/isolinux.bin"));
      expect(unpatched(await summarizeEntries(entries, { mtime: true }))).toEqual(
        unpatched(summarizeDisk(tree, { mtime: true })),
      );
      // ...and the bytes osirrox extracts (it leaves out devices, fifos and sockets).
      const out = join(dir, `${name.replace(/\W+/g, "_")}.out`);
      sh(`osirrox -indev ${q(image)} -extract / ${q(out)} 2>/dev/null`);
      if (catalog) sh(`rm -f ${q(join(out, catalog))}`);
      const plain = (s: Summary[]) => noLinks(s).filter((x) => ["file", "dir", "symlink"].includes(x.type));
      expect(plain(await summarizeEntries(entries))).toEqual(plain(summarizeDisk(out)));
      if (cmd.includes("-b "))
        expect(img.boot).toMatchObject({
          bootable: true,
          mediaType: 0,
          sectorCount: 4,
          imagePath: "boot/isolinux/isolinux.bin",
          catalogPath: "boot/isolinux/boot.cat",
        });
    });
  }

  it("plain ISO 9660 (no Rock Ridge, no Joliet): ISO names, lower-cased, without ;1", async () => {
    const plain = join(dir, "plain-src");
    mkdirSync(join(plain, "docs"), { recursive: true });
    writeFileSync(join(plain, "README.TXT"), "read me\n");
    writeFileSync(join(plain, "docs/NOTES"), "notes\n");
    const image = join(dir, "plain.iso");
    sh(`genisoimage -quiet -o ${q(image)} ${q(plain)}`);
    const img = await readIso(bufferSource(readFileSync(image)));
    expect(img.naming).toBe("iso9660");
    expect(img.entries.map((e) => e.path)).toEqual(["", "docs", "docs/notes", "readme.txt"]);
    expect(readContent(img.entries.find((e) => e.path === "readme.txt")!).toString()).toBe("read me\n");
  });

  it("Joliet names when there is no Rock Ridge", async () => {
    const src = join(dir, "joliet-src");
    mkdirSync(src, { recursive: true });
    writeFileSync(join(src, "Mixed Case Name.txt"), "j\n");
    const image = join(dir, "joliet.iso");
    sh(`genisoimage -quiet -J -o ${q(image)} ${q(src)}`);
    const img = await readIso(bufferSource(readFileSync(image)));
    expect(img.naming).toBe("joliet");
    expect(img.entries.map((e) => e.path)).toEqual(["", "Mixed Case Name.txt"]);
  });

  it("keeps a source ISO's isohybrid MBR working", async () => {
    const src = join(dir, "xorriso_hybrid.iso");
    const img = await readIso(bufferSource(readFileSync(src)));
    expect(hasHybridMbr(img.systemArea)).toBe(true);
    expect(hasHybridMbr((await readIso(bufferSource(readFileSync(fixtureIso())))).systemArea)).toBe(false);
    const out = join(dir, "rehybrid.iso");
    await writeFileAtomic(
      out,
      writeIso(img.entries, {
        epoch: 1,
        boot: { imagePath: img.boot!.imagePath!, catalogPath: img.boot!.catalogPath! },
        hybridMbrCode: img.systemArea,
      }),
    );
    const bytes = readFileSync(out);
    expect(bytes.length % (1024 * 1024)).toBe(0);
    expect(bytes.subarray(0, 432).equals(img.systemArea.subarray(0, 432))).toBe(true);
    const report = sh(`xorriso -indev ${q(out)} -report_system_area plain 2>/dev/null`).toString();
    expect(report).toContain("MBR isohybrid");
    expect(report).toMatch(new RegExp(`MBR partition\\s+:\\s+1\\s+0x80\\s+0x17\\s+0\\s+${bytes.length / 512}`));
  });

  it("reads the Tiny Core fixture ISO and its El Torito entry", async () => {
    const img = await openIso(fixtureIso());
    try {
      expect(img.volume.volumeId).toBe("Core");
      expect(img.boot).toMatchObject({
        platform: 0,
        bootable: true,
        mediaType: 0,
        loadSegment: 0,
        sectorCount: 4,
        imagePath: "boot/isolinux/isolinux.bin",
      });
      expect(ourListing(img.entries).sort()).toEqual(xorrisoListing(fixtureIso()).sort());
    } finally {
      img.close();
    }
  });
});

describe("our writer read by other tools", () => {
  const opts: IsoWriteOptions = {
    epoch: 1700000000,
    volume: { volumeId: "MKBUNDLE_TEST", publisherId: "mkbundle tests" },
    boot: { imagePath: "boot/isolinux/isolinux.bin", catalogPath: "boot/isolinux/boot.cat" },
  };
  let entries: Entry[];
  let image: string;

  beforeAll(async () => {
    const gnu = join(dir, "source.iso");
    sh(`xorriso -as mkisofs -l -J -R -o ${q(gnu)} ${q(tree)} 2>/dev/null`);
    entries = await treeEntries(gnu);
    image = join(dir, "ours.iso");
    await writeFileAtomic(image, writeIso(entries, opts));
  });

  it("xorriso lists it like the source tree and -check_media finds no error", () => {
    const listing = xorrisoListing(image).filter((l) => !l.endsWith(" boot/isolinux/boot.cat"));
    expect(listing.sort()).toEqual(ourListing(entries).sort());
    const check = sh(`xorriso -indev ${q(image)} -check_media -- 2>&1`).toString();
    expect(check).toMatch(/Media region :\s+0 ,\s+\d+ , \+ good/);
    expect(check).not.toMatch(/(- bad|SORRY|FAILURE)/);
  });

  it("isoinfo reads Rock Ridge and Joliet trees and reports the El Torito entry", () => {
    const rr = sh(`isoinfo -R -l -i ${q(image)}`).toString();
    expect(rr).toMatch(/^-rw.r-.r-.\s+1\s+0\s+0\s+10 .* setuid-tool $/m); // isoinfo does not show setuid
    expect(rr).toContain("ünïcødé-文件.txt");
    expect(rr).toMatch(/ n{196}\.txt/);
    const joliet = sh(`isoinfo -J -l -i ${q(image)}`).toString(); // isoinfo has no UTF-8 output charset
    expect(joliet).toContain("big.bin");
    expect(joliet).toMatch(/ n{64} $/m); // Joliet's 64-character limit
    const d = sh(`isoinfo -d -i ${q(image)}`).toString();
    expect(d).toContain("Volume id: MKBUNDLE_TEST");
    expect(d).toContain("El Torito VD version 1 found");
    expect(d).toMatch(/Bootid 88 \(bootable\)[\s\S]*No Emulation Boot[\s\S]*Nsect 4/);
    expect(d).toContain("Rock Ridge signatures version 1 found");
    expect(d).toContain("Joliet with UCS level 3 found");
  });

  it("bsdtar extracts it byte-identically to the input tree; 7z lists it", () => {
    const out = join(dir, "bsdtar-out");
    mkdirSync(out);
    sh(`bsdtar -xpf ${q(image)} -C ${q(out)} --numeric-owner --exclude boot/isolinux/boot.cat`);
    // isolinux.bin carries the boot-info-table we patched in; libarchive cannot create
    // sockets (it writes empty files, for xorriso's images too); the rest is the input tree.
    const strip = (s: Summary[]) =>
      noLinks(s).filter((x) => x.path !== "boot/isolinux/isolinux.bin" && x.path !== "sock");
    expect(strip(summarizeDisk(out, { mtime: true }))).toEqual(strip(summarizeDisk(tree, { mtime: true })));
    const tv = sh(`bsdtar -tvf ${q(image)}`).toString();
    expect(tv).toMatch(/^brw-rw---- .* 7,0 .* loop0$/m);
    expect(tv).toMatch(/^srwxr-xr-x .* sock$/m);
    const z = sh(`7z l ${q(image)}`).toString();
    expect(z).toContain("big.bin");
    expect(z).toContain("nested.txt");
  });

  it("patches the boot-info-table as xorriso -boot-info-table does", async () => {
    const ref = join(dir, "ref.iso");
    sh(
      `xorriso -as mkisofs -l -J -R -no-emul-boot -boot-load-size 4 -boot-info-table -b boot/isolinux/isolinux.bin -c boot/isolinux/boot.cat -o ${q(ref)} ${q(tree)} 2>/dev/null`,
    );
    const lba = (iso: string) =>
      Number(/Bootoff\s+(\w+)/.exec(sh(`isoinfo -d -i ${q(iso)}`).toString())![1]!.replace(/^/, "0x"));
    const bin = (iso: string) => {
      const out = `${iso}.isolinux.bin`;
      sh(`osirrox -indev ${q(iso)} -extract /boot/isolinux/isolinux.bin ${q(out)} 2>/dev/null`);
      return readFileSync(out);
    };
    const [ours, theirs] = [bin(image), bin(ref)];
    expect(ours.readUInt32LE(8)).toBe(16);
    expect(ours.readUInt32LE(12)).toBe(lba(image));
    expect(ours.readUInt32LE(20)).toBe(theirs.readUInt32LE(20)); // checksum of bytes 64..end
    expect(ours.subarray(64).equals(theirs.subarray(64))).toBe(true);
  });

  it("is reproducible; another epoch changes only the volume dates", async () => {
    const again = join(dir, "again.iso");
    await writeFileAtomic(again, writeIso(entries, opts));
    expect(readFileSync(again).equals(readFileSync(image))).toBe(true);
    const other = join(dir, "other-epoch.iso");
    await writeFileAtomic(other, writeIso(entries, { ...opts, epoch: 1800000000 }));
    const [a, b] = [readFileSync(image), readFileSync(other)];
    expect(a.length).toBe(b.length);
    const differ = new Set<number>();
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) differ.add(Math.floor(i / 2048));
    expect(differ.size).toBeGreaterThan(0);
    // Only descriptors (their dates) and directory records (the catalog's date) change:
    // no file data, no layout.
    const files = (await readIso(bufferSource(a))).entries.filter(
      (e) => e.type === "file" && e.size > 0 && e.path !== opts.boot!.catalogPath,
    );
    const firstData = Math.min(...files.map((e) => lbaOf(a, e.path)));
    expect([...differ].filter((s) => s >= firstData)).toEqual([]);
    const strip = (es: Entry[]) => es.map(({ content: _c, mtime: _m, ...rest }) => rest);
    expect(strip((await readIso(bufferSource(b))).entries)).toEqual(strip((await readIso(bufferSource(a))).entries));
  });

  it("streams entries whose data comes from another ISO", async () => {
    const src = await openIso(fixtureIso());
    try {
      const chunks: Buffer[] = [];
      for await (const c of writeIso(src.entries, {
        epoch: 1,
        boot: { imagePath: src.boot!.imagePath!, catalogPath: src.boot!.catalogPath! },
      }))
        chunks.push(c);
      const copy = await readIso(bufferSource(Buffer.concat(chunks)));
      for (const e of copy.entries.filter(
        (x) => x.type === "file" && !x.path.endsWith("boot.cat") && !x.path.endsWith("isolinux.bin"),
      )) {
        const orig = src.entries.find((x) => x.path === e.path)!;
        expect(readContent(e).equals(readContent(orig)), e.path).toBe(true);
      }
    } finally {
      src.close();
    }
  });
});
