// squashfs reader against mksquashfs, gensquashfs and unsquashfs, and on every real .tcz.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { formatLine, toListed } from "../../src/inspect/format-listing.js";
import { MetadataReader } from "../../src/formats/squashfs/metadata.js";
import { readSquashfs } from "../../src/formats/squashfs/reader.js";
import { readInode } from "../../src/formats/squashfs/inode.js";
import { readSuperblock } from "../../src/formats/squashfs/superblock.js";
import { bufferSource } from "../../src/io/byte-source.js";
import { collect, readContent, type Entry } from "../../src/tree/entry.js";
import { FormatError } from "../../src/errors.js";
import { fixturesDir } from "../helpers/paths.js";
import { q, sh } from "../helpers/run.js";
import { tempDir } from "../helpers/tmp.js";
import { makeEveryTypeTree, pseudoRandom, summarizeDisk, summarizeEntries } from "../helpers/tree.js";

const { dir } = tempDir("mkbundle-sqfs-");
const tree = join(dir, "tree");

/** `unsquashfs -lln` as comparable lines: mode uid/gid size-or-rdev time path [-> target]. */
function unsquashfsListing(image: string): string[] {
  return sh(`TZ=UTC unsquashfs -lln -d '' ${q(image)}`)
    .toString()
    .split("\n")
    .filter((l) => /^[-dlcbps][-rwxsStT]{9} /.test(l))
    .map((l) => {
      const m = /^(\S{10}) (\d+)\/(\d+)\s+(\d+|\d+,\s*\d+) (\S+ \S+) \/?(.*)$/.exec(l)!;
      const size = m[1]!.startsWith("d") ? "-" : m[4]!.replace(/\s+/g, "");
      return `${m[1]} ${m[2]}/${m[3]} ${size} ${m[5]} ${m[6] || "."}`;
    });
}

function ourListing(entries: Entry[]): string[] {
  const byPath = new Map(entries.map((e) => [e.path, e]));
  return entries.map((e) => {
    const l = toListed(e, byPath);
    const [mode, uid, gid, size, day, time, ...rest] = formatLine(l).split(/\s+/);
    return `${mode} ${uid}/${gid} ${l.type === "dir" ? "-" : size} ${day} ${time} ${rest.join(" ")}`;
  });
}

beforeAll(() => {
  makeEveryTypeTree(tree, { socket: true });
  sh(`truncate -s 3M ${q(join(tree, "sparse"))}`); // all-zero blocks: stored as sparse
  writeFileSync(join(tree, "exact-block"), pseudoRandom(4096, 3));
  writeFileSync(join(tree, "text.txt"), "compressible text\n".repeat(5000));
});

describe("squashfs reader against squashfs-tools", () => {
  it("reads mksquashfs output with every entry type, sparse files and fragments", async () => {
    const image = join(dir, "mk.sqfs");
    sh(`mksquashfs ${q(tree)} ${q(image)} -b 4096 -noappend -no-xattrs -quiet -no-progress`);
    const entries = await collect(readSquashfs(readFileSync(image)));
    expect(await summarizeEntries(entries, { mtime: true, root: true })).toEqual(
      summarizeDisk(tree, { mtime: true, root: true }),
    );
    // unsquashfs 4.5 prints device numbers above 255:255 wrongly; those are checked against the disk above.
    const small = (l: string[]) => l.filter((x) => !x.endsWith(" bigdev")).sort();
    expect(small(ourListing(entries))).toEqual(small(unsquashfsListing(image)));
  });

  it("reads uncompressed tables and data (-noI -noD -noF) and always-fragments images", async () => {
    for (const flags of ["-noI -noD -noF", "-always-use-fragments", "-no-fragments"]) {
      const image = join(dir, `flags${flags.replace(/\W+/g, "_")}.sqfs`);
      sh(`mksquashfs ${q(tree)} ${q(image)} -b 4096 -noappend -no-xattrs -quiet -no-progress ${flags}`);
      expect(await summarizeEntries(await collect(readSquashfs(readFileSync(image)))), flags).toEqual(
        summarizeDisk(tree),
      );
    }
  });

  it("reads gensquashfs output with device nodes from a -F list", async () => {
    const list = join(dir, "gen.list");
    writeFileSync(
      list,
      [
        "dir /dev 0755 0 0",
        "nod /dev/null 0666 0 0 c 1 3",
        "nod /dev/loop0 0660 0 6 b 7 0",
        "nod /dev/big 0600 0 0 c 259 65536",
        "pipe /dev/initctl 0600 0 0",
        "sock /dev/log 0666 0 0",
        "slink /dev/stdin 0777 0 0 /proc/self/fd/0",
        "dir /etc 0755 0 0",
        `file /etc/big.bin 0644 1000 50 ${join(tree, "big.bin")}`,
        `file /etc/text.txt 0600 0 0 ${join(tree, "text.txt")}`,
      ].join("\n") + "\n",
    );
    const image = join(dir, "gen.sqfs");
    sh(`gensquashfs -c gzip -b 4096 -F ${q(list)} -q -f ${q(image)}`);
    const entries = await collect(readSquashfs(readFileSync(image)));
    const small = (l: string[]) => l.filter((x) => !x.endsWith(" dev/big")).sort();
    expect(small(ourListing(entries))).toEqual(small(unsquashfsListing(image)));
    const big = entries.find((e) => e.path === "dev/big")!;
    expect([big.type, big.rdevMajor, big.rdevMinor]).toEqual(["char", 259, 65536]);
    expect(
      readContent(entries.find((e) => e.path === "etc/big.bin")!).equals(readFileSync(join(tree, "big.bin"))),
    ).toBe(true);
  });

  it("lists every fixture .tcz like unsquashfs and extracts every file byte-identically", async () => {
    const tcz = join(fixturesDir(), "tinycore/4.x/x86/tcz");
    const names = readdirSync(tcz).filter((f) => f.endsWith(".tcz"));
    expect(names.length).toBeGreaterThanOrEqual(20);
    let files = 0;
    for (const name of names) {
      const image = join(tcz, name);
      const bytes = readFileSync(image);
      const entries = await collect(readSquashfs(bytes));
      const superblock = readSuperblock(bytes);
      expect([superblock.compression, superblock.blockSize], name).toEqual([1, 4096]);
      expect(ourListing(entries).sort(), name).toEqual(unsquashfsListing(image).sort());
      const concise = sh(`unsquashfs -lc -d '' ${q(image)}`)
        .toString()
        .trim()
        .split("\n")
        .filter(Boolean)
        .map((p) => p.slice(1));
      const ours = new Set(entries.map((e) => e.path));
      expect(
        concise.filter((p) => !ours.has(p)),
        name,
      ).toEqual([]);
      const out = join(dir, "x", name);
      mkdirSync(join(dir, "x"), { recursive: true });
      sh(`unsquashfs -q -n -d ${q(out)} ${q(image)}`);
      for (const e of entries.filter((x) => x.type === "file")) {
        expect(readContent(e).equals(readFileSync(join(out, e.path))), `${name}: ${e.path}`).toBe(true);
        files++;
      }
    }
    expect(files).toBeGreaterThan(100);
  });

  it("names an unsupported compressor", async () => {
    const image = join(dir, "xz.sqfs");
    sh(`mksquashfs ${q(join(tree, "sub"))} ${q(image)} -comp xz -noappend -quiet -no-progress`);
    await expect(collect(readSquashfs(readFileSync(image)))).rejects.toThrow(/unsupported compressor 4 \(xz\)/);
  });
});

describe("squashfs hostile input", () => {
  it("detects a directory that contains itself", async () => {
    const src = join(dir, "loop-src");
    mkdirSync(join(src, "a/b"), { recursive: true });
    writeFileSync(join(src, "a/b/f"), "x");
    const image = join(dir, "loop.sqfs");
    sh(`mksquashfs ${q(src)} ${q(image)} -noI -noappend -no-xattrs -quiet -no-progress`);
    const buf = readFileSync(image);
    // Point directory a/b's listing at its parent a's listing: a/b/b/b/... forever.
    // With -noI the inode table is stored as is: find the basic directory inodes in it.
    const sb = readSuperblock(buf);
    const inodes = new MetadataReader(bufferSource(buf), sb.compression, sb.directoryTableStart);
    const found: { pos: number; number: number; parent: number; block: number; offset: number }[] = [];
    for (let off = 0; sb.inodeTableStart + 2 + off + 32 <= sb.directoryTableStart; off++) {
      const pos = sb.inodeTableStart + 2 + off;
      if (buf.readUInt16LE(pos) !== 1) continue;
      try {
        const ino = readInode(inodes.cursor(sb.inodeTableStart, off), sb.blockSize, buf.length);
        if (ino.type === "dir" && ino.number > 0)
          found.push({
            pos,
            number: ino.number,
            parent: buf.readUInt32LE(pos + 28),
            block: ino.dirBlock!,
            offset: ino.dirOffset!,
          });
      } catch {
        /* not an inode boundary */
      }
    }
    const rootNumber = Math.max(...found.map((d) => d.number));
    const a = found.find((d) => d.parent === rootNumber && d.number !== rootNumber)!;
    const b = found.find((d) => d.parent === a.number)!;
    const patched = Buffer.from(buf);
    patched.writeUInt32LE(a.block, b.pos + 16);
    patched.writeUInt16LE(a.offset, b.pos + 26);
    await expect(collect(readSquashfs(patched))).rejects.toThrow(/loop|inode number/);
  });

  it("reports truncation and garbage as format errors", async () => {
    const image = readFileSync(join(fixturesDir(), "tinycore/4.x/x86/tcz/dmidecode.tcz"));
    const used = readSuperblock(image).bytesUsed; // .tcz files are padded past this to 4 KiB
    const readEverything = async (b: Buffer) => {
      for await (const e of readSquashfs(b)) readContent(e);
    };
    for (const n of [0, 10, 95, 96, 200, used >> 1, used - 100, used - 1]) {
      await expect(readEverything(image.subarray(0, n)), `truncated at ${n}`).rejects.toThrow(FormatError);
    }
    await expect(readEverything(image.subarray(0, used))).resolves.toBeUndefined();
    await expect(collect(readSquashfs(Buffer.from("hsqs" + "\0".repeat(200))))).rejects.toThrow(FormatError);
  });
});
