// The ext2 writer against e2fsprogs: e2fsck -fn finds nothing to fix in what it writes (at 1
// and 4 KiB blocks, over several block groups); debugfs reads every file, link, device, owner,
// mode and time back as written; our reader agrees; two writes are the same bytes. And what
// mke2fs -d makes of the same tree reads back the same through mkbundle; an ext4 with extents,
// a truncated image, a loop and pointers out of range are refused with one clear line.
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FormatError } from "../../src/errors.js";
import { readExt2 } from "../../src/formats/ext2/reader.js";
import { ext2Image, type Ext2Options } from "../../src/formats/ext2/writer.js";
import { bufferSource, fileSource } from "../../src/io/byte-source.js";
import { collect, readContent, type Entry } from "../../src/tree/entry.js";
import { reproducible } from "../../src/tree/reproducible.js";
import { entryMakers, pattern } from "../helpers/entries.js";
import { q, sh } from "../helpers/run.js";
import { tempDir } from "../helpers/tmp.js";

const { dir } = tempDir("mkbundle-ext2-");
const EPOCH = 1_700_000_000;
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const { d, f, link, hard, char, block, fifo } = entryMakers(EPOCH);

const TREE: Entry[] = [
  d("etc"),
  d("home/tc", 0o750, 1001, 50),
  f("etc/motd", Buffer.from("hello\n"), 0o644, 1001, 50),
  f("etc/empty", Buffer.alloc(0)),
  f("home/tc/tool", Buffer.from("#!/bin/sh\necho tool\n"), 0o4755, 70000, 70001),
  // 12 direct blocks, a single indirect block and a double indirect one at 1 KiB.
  f("opt/big", pattern(700_000, 1), 0o600),
  f("opt/blocks", pattern(3 * 4096, 2)),
  link("etc/link", "motd"),
  link("etc/long-link", `${"../".repeat(30)}etc/motd`),
  hard("etc/hard", "etc/motd", 1001, 50),
  char("dev/null", 1, 3),
  block("dev/sdb300", 8, 300),
  fifo("run/fifo"),
  ...Array.from({ length: 1200 }, (_, i) =>
    f(`many/entry-${String(i).padStart(4, "0")}-${"n".repeat(i % 240)}`, Buffer.from(`${i}\n`)),
  ),
];

async function write(name: string, entries: Entry[], o: Partial<Ext2Options>): Promise<string> {
  const path = join(dir, `${name}.img`);
  const img = ext2Image(reproducible(entries, { epoch: EPOCH }), { epoch: EPOCH, size: 24 << 20, ...o });
  writeFileSync(path, Buffer.concat(await collect(img.stream())));
  return path;
}

async function readBack(image: string): Promise<Map<string, Entry>> {
  const src = fileSource(image);
  try {
    const out = new Map<string, Entry>();
    for (const e of await collect(readExt2(src))) {
      const data = e.type === "file" ? readContent(e) : undefined;
      out.set(e.path, data ? { ...e, content: () => bufferSource(data) } : e);
    }
    return out;
  } finally {
    src.close();
  }
}

describe("ext2 writer, read by e2fsprogs and by mkbundle", () => {
  for (const blockSize of [1024, 4096] as const) {
    it(`${blockSize}-byte blocks: e2fsck -fn is clean; debugfs and our reader read every entry as written`, async () => {
      const image = await write(`tree-${blockSize}`, TREE, { blockSize, label: "mkdata" });
      const fsck = sh(`e2fsck -fn ${q(image)} 2>&1; echo "exit $?"`).toString();
      expect(fsck).toMatch(/exit 0\s*$/);
      if (blockSize === 1024)
        expect(sh(`dumpe2fs -h ${q(image)} 2>/dev/null`).toString()).toMatch(/Block count:\s+24576/);
      const header = sh(`dumpe2fs -h ${q(image)} 2>/dev/null`).toString();
      expect(header).toMatch(/Filesystem volume name:\s+mkdata/);
      expect(header).toMatch(/Filesystem features:\s+filetype sparse_super\n/);

      // debugfs: files, directories and links extracted; owners, modes and devices from stat.
      const out = join(dir, `x-${blockSize}`);
      rmSync(out, { recursive: true, force: true });
      mkdirSync(out);
      sh(`debugfs -R ${q(`rdump / ${out}`)} ${q(image)} 2>/dev/null`);
      for (const e of TREE.filter((x) => x.type === "file"))
        expect(sha(readFileSync(join(out, e.path))), e.path).toBe(sha(readContent(e)));
      const stat = (p: string) => sh(`debugfs -R ${q(`stat /${p}`)} ${q(image)} 2>/dev/null`).toString();
      expect(stat("home/tc/tool")).toMatch(/User: 70000\s+Group: 70001/);
      expect(stat("home/tc/tool")).toMatch(/Mode:\s+04755/);
      expect(stat("etc/motd")).toMatch(/Links: 2/);
      expect(stat("dev/sdb300")).toMatch(/Device major\/minor number: 08:300/);
      expect(stat("dev/null")).toMatch(/Device major\/minor number: 01:03/);
      expect(stat("etc/long-link")).toMatch(/Fast link dest: |Links: 1/);
      expect(sh(`debugfs -R ${q("cat /etc/long-link")} ${q(image)} 2>/dev/null`).toString()).toBe(
        `${"../".repeat(30)}etc/motd`,
      );
      expect(stat("opt/big")).toMatch(/\(DIND\)|\(IND\)/);
      expect(stat("run/fifo")).toMatch(/Type: FIFO/);

      // Our reader: every entry with its kind, mode, owner, time, target and bytes.
      const got = await readBack(image);
      for (const e of TREE) {
        const named = got.get(e.path);
        expect(named, e.path).toBeDefined();
        // Two names of one inode: the one read first is the file, the other a hard link to it.
        const r = named!.type === "hardlink" ? got.get(named!.linkTarget!)! : named!;
        if (e.type === "hardlink") {
          const other = got.get(e.linkTarget!)!;
          expect([named!.linkTarget, other.linkTarget]).toContain(named!.type === "hardlink" ? e.linkTarget : e.path);
          continue;
        }
        expect([r.type, r.mode, r.uid, r.gid, r.mtime], e.path).toEqual([e.type, e.mode, e.uid, e.gid, e.mtime]);
        if (e.type === "file") expect(sha(readContent(r)), e.path).toBe(sha(readContent(e)));
        if (e.type === "symlink") expect(r.linkTarget).toBe(e.linkTarget);
        if (e.type === "block" || e.type === "char")
          expect([r.rdevMajor, r.rdevMinor]).toEqual([e.rdevMajor, e.rdevMinor]);
      }
      expect(got.get("lost+found")?.mode).toBe(0o700);
    }, 120_000);
  }

  it("the same entries in any order are the same bytes; the UUID comes from the content", async () => {
    const a = readFileSync(await write("again-a", TREE, { blockSize: 1024 }));
    const b = readFileSync(await write("again-b", [...TREE].reverse(), { blockSize: 1024 }));
    expect(sha(a)).toBe(sha(b));
    const other = readFileSync(await write("again-c", [...TREE, f("etc/new", Buffer.from("x"))], { blockSize: 1024 }));
    const uuid = (img: Buffer) => img.subarray(1024 + 104, 1024 + 120).toString("hex");
    expect(uuid(other)).not.toBe(uuid(a));
  });

  it("what mke2fs -d makes of the same tree reads back the same through mkbundle", async () => {
    const root = join(dir, "mke2fs-src");
    rmSync(root, { recursive: true, force: true });
    for (const e of TREE) {
      const p = join(root, e.path);
      mkdirSync(e.type === "dir" ? p : join(p, ".."), { recursive: true });
      if (e.type === "file") writeFileSync(p, readContent(e));
      if (e.type === "symlink") symlinkSync(e.linkTarget!, p);
    }
    const theirs = join(dir, "theirs.img");
    rmSync(theirs, { force: true });
    sh(`mke2fs -q -t ext2 -b 1024 -d ${q(root)} ${q(theirs)} 24M`);
    const got = await readBack(theirs);
    for (const e of TREE.filter((x) => x.type === "file" || x.type === "symlink")) {
      const r = got.get(e.path);
      expect(r?.type, e.path).toBe(e.type);
      if (e.type === "file") expect(sha(readContent(r!)), e.path).toBe(sha(readContent(e)));
      else expect(r!.linkTarget).toBe(e.linkTarget);
    }
  }, 60_000);

  it("refuses ext4 extents, a truncated image, a directory loop and a block out of range, in one line each", async () => {
    const ext4 = join(dir, "ext4.img");
    rmSync(ext4, { force: true });
    sh(`mke2fs -q -t ext4 ${q(ext4)} 8M`);
    const refused = async (b: Buffer) => {
      try {
        await collect(readExt2(bufferSource(b)));
      } catch (e) {
        expect(e).toBeInstanceOf(FormatError);
        expect((e as Error).message).not.toContain("\n");
        return (e as Error).message;
      }
      throw new Error("read without an error");
    };
    expect(await refused(readFileSync(ext4))).toMatch(/extents \(ext4\)/);
    const small = readFileSync(
      await write("hostile", [d("a/b"), f("a/b/c", Buffer.from("c"))], { blockSize: 1024, size: 1 << 20 }),
    );
    expect(await refused(small.subarray(0, small.length / 2))).toMatch(/truncated/);
    // The root's first block map entry: its listing; a/b's listing then names the root as "c".
    const inodeTable = small.readUInt32LE(2048 + 8) * 1024;
    const inode = (n: number) => inodeTable + (n - 1) * 128;
    const loop = Buffer.from(small);
    const bListing = loop.readUInt32LE(inode(13) + 40) * 1024; // a is 12, a/b is 13
    for (let at = bListing; at < bListing + 1024;) {
      const len = loop.readUInt16LE(at + 4);
      if (loop.toString("latin1", at + 8, at + 8 + loop[at + 6]!) === "c") loop.writeUInt32LE(2, at);
      at += len;
    }
    expect(await refused(loop)).toMatch(/reached twice/);
    const outOfRange = Buffer.from(small);
    outOfRange.writeUInt32LE(0x7fffffff, inode(14) + 40);
    expect(await refused(outOfRange)).toMatch(/outside the file system/);
  });
});
