// The squashfs writer against the independent tools: unsquashfs -lln (squashfs-tools) and
// sqfs2tar (squashfs-tools-ng) list and extract every tree it makes with the input's names,
// modes, owners, link targets, hard links, device numbers, mtimes and bytes; mkbundle's
// reader agrees; and what mksquashfs makes of the same tree reads back the same through
// mkbundle. Two runs give the same bytes.
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readSquashfs } from "../../src/formats/squashfs/reader.js";
import { writeSquashfsFile } from "../../src/formats/squashfs/writer.js";
import { fileSource } from "../../src/io/byte-source.js";
import { collect, readContent, type Entry } from "../../src/tree/entry.js";
import { entryMakers, pattern } from "../helpers/entries.js";
import { q, sh } from "../helpers/run.js";
import { tempDir } from "../helpers/tmp.js";

const { dir } = tempDir("mkbundle-squashfs-writer-");
const EPOCH = 1_700_000_000;
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const { d, f, link, hard, char, block, fifo } = entryMakers(EPOCH);

const TREES: Record<string, Entry[]> = {
  "every kind of entry": [
    d("etc"),
    d("srv", 0o750, 1000, 50),
    f("etc/motd", Buffer.from("hello\n"), 0o644, 1000, 50),
    f("etc/empty", Buffer.alloc(0)),
    f("srv/tool", Buffer.from("#!/bin/sh\necho tool\n"), 0o4755),
    link("etc/link", "motd"),
    link("etc/abs", "/usr/local/bin/x"),
    hard("etc/hard", "etc/motd", 1000, 50),
    char("dev/null", 1, 3),
    block("dev/sdb300", 8, 300),
    fifo("run/fifo"),
  ],
  "block boundaries, zero blocks and duplicates": [
    f("one-block", pattern(4096, 1)),
    f("one-over", pattern(4097, 2)),
    f("one-under", pattern(4095, 3)),
    f("zeros-then-data", Buffer.concat([Buffer.alloc(3 * 4096), pattern(5000, 4)])),
    f("all-zeros", Buffer.alloc(8 * 4096)),
    f("copy-of-one-over", pattern(4097, 2)),
    f("random", createHash("sha512").update("x").digest().subarray(0, 64)),
    f("big", pattern(700_000, 5), 0o600),
  ],
  "a directory of 2,000 entries and 255-byte names": [
    ...Array.from({ length: 2000 }, (_, i) =>
      f(`many/entry-${String(i).padStart(4, "0")}-${"n".repeat(i % 180)}`, Buffer.from(`${i}\n`)),
    ),
    f(`${"a".repeat(255)}`, Buffer.from("long\n")),
    d(`${"b".repeat(255)}`),
    f(`${"b".repeat(255)}/${"c".repeat(255)}`, Buffer.from("longer\n")),
  ],
};

/** unsquashfs -lln, as "type mode owner size-or-device time path[ -> target]" lines. */
function unsquashfsListing(image: string): string[] {
  return sh(`unsquashfs -lln -UTC ${q(image)} 2>/dev/null || unsquashfs -lln ${q(image)}`)
    .toString()
    .trim()
    .split("\n")
    .filter((l) => l.includes("squashfs-root/"))
    .map((l) => l.replace(/\s+/g, " ").replace(" squashfs-root/", " "));
}

/** The same listing from the entries, as unsquashfs prints it. */
function expectedListing(entries: readonly Entry[]): string[] {
  const byPath = new Map(entries.map((e) => [e.path, e]));
  const kind = { dir: "d", file: "-", symlink: "l", char: "c", block: "b", fifo: "p", socket: "s", hardlink: "-" };
  const perms = (m: number) => {
    const rwx = (b: number, s: boolean, c: string) =>
      `${b & 4 ? "r" : "-"}${b & 2 ? "w" : "-"}${s ? (b & 1 ? c : c.toUpperCase()) : b & 1 ? "x" : "-"}`;
    return (
      rwx(m >> 6, (m & 0o4000) !== 0, "s") + rwx(m >> 3, (m & 0o2000) !== 0, "s") + rwx(m, (m & 0o1000) !== 0, "t")
    );
  };
  const time = (t: number) => new Date(t * 1000).toISOString().slice(0, 16).replace("T", " ");
  const lines: string[] = [];
  const paths = new Set<string>();
  for (const e of entries)
    for (let p = e.path; p; p = p.includes("/") ? p.slice(0, p.lastIndexOf("/")) : "") paths.add(p);
  for (const p of [...paths].sort()) {
    let e = byPath.get(p) ?? d(p);
    if (!byPath.has(p)) e = { ...e, mtime: EPOCH }; // an implicit parent is dated by the epoch
    const target = e.type === "hardlink" ? byPath.get(e.linkTarget!)! : e;
    // unsquashfs shows the encoded rdev split at bit 8, as squashfs stores it (new_encode_dev).
    const rdev = (e2: Entry) => ((e2.rdevMinor! & 0xff) | (e2.rdevMajor! << 8) | ((e2.rdevMinor! & ~0xff) << 12)) >>> 0;
    const size =
      target.type === "char" || target.type === "block"
        ? `${rdev(target) >>> 8}, ${rdev(target) & 0xff}`
        : target.type === "symlink"
          ? String(Buffer.byteLength(target.linkTarget!))
          : target.type === "dir"
            ? "*"
            : String(target.size);
    lines.push(
      `${kind[target.type]}${perms(target.mode)} ${target.uid}/${target.gid} ${size} ${time(target.mtime)} ${p}${target.type === "symlink" ? ` -> ${target.linkTarget}` : ""}`,
    );
  }
  return lines;
}

async function write(name: string, entries: Entry[], blockSize?: number): Promise<string> {
  const path = join(dir, `${name.replace(/\W+/g, "-")}${blockSize ?? ""}.sqfs`);
  rmSync(path, { force: true });
  await writeSquashfsFile(entries, path, { epoch: EPOCH, ...(blockSize ? { blockSize } : {}) });
  return path;
}

describe("squashfs writer, read by squashfs-tools, squashfs-tools-ng and mkbundle", () => {
  for (const [name, entries] of Object.entries(TREES)) {
    it(`${name}: unsquashfs lists and extracts it as written; sqfs2tar agrees; our reader agrees`, async () => {
      const image = await write(name, entries);
      expect(statSync(image).size % 4096).toBe(0);
      // Listing: names, types, modes, owners, sizes, device numbers, times, link targets.
      const listed = unsquashfsListing(image).map((l) => l.replace(/^(d\S+ \S+) \d+ /, "$1 * "));
      expect(listed).toEqual(expectedListing(entries));
      // Bytes: unsquashfs extracts every file as written, hard links as one inode.
      const out = join(dir, `${name.replace(/\W+/g, "-")}-x`);
      rmSync(out, { recursive: true, force: true });
      sh(`unsquashfs -n -d ${q(out)} ${q(image)} >/dev/null`);
      for (const e of entries.filter((x) => x.type === "file"))
        expect(sha(readFileSync(join(out, e.path))), e.path).toBe(sha(readContent(e)));
      for (const e of entries.filter((x) => x.type === "hardlink"))
        expect(statSync(join(out, e.path)).ino).toBe(statSync(join(out, e.linkTarget!)).ino);
      // squashfs-tools-ng: sqfs2tar's tar, as GNU tar lists it.
      const tarList = sh(`sqfs2tar ${q(image)} 2>/dev/null | tar -tvf - --numeric-owner`).toString();
      for (const e of entries.filter((x) => x.type !== "dir")) expect(tarList).toContain(e.path);
      for (const e of entries.filter((x) => x.type === "hardlink"))
        expect(tarList).toMatch(new RegExp(`${e.path} link to ${e.linkTarget}|${e.linkTarget} link to ${e.path}`));
      // mkbundle's reader: every path, and every file's bytes.
      const src = fileSource(image);
      try {
        const read = await collect(readSquashfs(src));
        const got = new Map(read.map((e) => [e.path, e]));
        for (const e of entries) {
          const named = got.get(e.path);
          expect(named, e.path).toBeDefined();
          // Two names of one inode: the reader gives the second as a hard link to the first.
          const r = named!.type === "hardlink" ? got.get(named!.linkTarget!) : named;
          if (e.type === "file") expect(sha(readContent(r!)), e.path).toBe(sha(readContent(e)));
          if (e.type === "symlink") expect(r!.linkTarget).toBe(e.linkTarget);
          if (e.type !== "hardlink")
            expect([r!.mode, r!.uid, r!.gid, r!.mtime], e.path).toEqual([e.mode, e.uid, e.gid, e.mtime]);
        }
      } finally {
        src.close();
      }
    }, 120_000);
  }

  it("the same tree twice is the same bytes, at 4 KiB and at 128 KiB blocks", async () => {
    for (const bs of [undefined, 131072]) {
      const entries = TREES["block boundaries, zero blocks and duplicates"]!;
      const a = readFileSync(await write("again-a", entries, bs));
      const b = readFileSync(await write("again-b", [...entries].reverse(), bs));
      expect(sha(a)).toBe(sha(b));
    }
  });

  it("compressed by worker threads or on the main thread, 6 MiB of files are the same bytes, as written", async () => {
    const entries = Array.from({ length: 48 }, (_, i) =>
      f(`data/file-${i}`, i % 3 ? pattern(131_072 + i * 517, i) : createHash("sha512").update(`${i}`).digest()),
    );
    entries.push(
      f(
        "data/noise",
        Buffer.concat(Array.from({ length: 64 }, (_, i) => createHash("sha512").update(`n${i}`).digest())),
      ),
    );
    const main = join(dir, "threads-0.sqfs");
    const pooled = join(dir, "threads-2.sqfs");
    for (const p of [main, pooled]) rmSync(p, { force: true });
    await writeSquashfsFile(entries, main, { epoch: EPOCH, threads: 0 });
    await writeSquashfsFile(entries, pooled, { epoch: EPOCH, threads: 2 });
    expect(sha(readFileSync(pooled))).toBe(sha(readFileSync(main)));
    const out = join(dir, "threads-x");
    rmSync(out, { recursive: true, force: true });
    sh(`unsquashfs -n -d ${q(out)} ${q(pooled)} >/dev/null`);
    for (const e of entries) expect(sha(readFileSync(join(out, e.path))), e.path).toBe(sha(readContent(e)));
  });

  it("at 128 KiB blocks unsquashfs reads the block size and extracts every file as written", async () => {
    const entries = TREES["block boundaries, zero blocks and duplicates"]!;
    const image = await write("big-blocks", entries, 131072);
    expect(sh(`unsquashfs -s ${q(image)}`).toString()).toMatch(/Block size 131072/);
    const out = join(dir, "big-blocks-x");
    rmSync(out, { recursive: true, force: true });
    sh(`unsquashfs -n -d ${q(out)} ${q(image)} >/dev/null`);
    for (const e of entries.filter((x) => x.type === "file"))
      expect(sha(readFileSync(join(out, e.path))), e.path).toBe(sha(readContent(e)));
  });

  it("what mksquashfs makes of the same tree reads back the same through mkbundle", async () => {
    const entries = TREES["block boundaries, zero blocks and duplicates"]!;
    const root = join(dir, "mksquashfs-src");
    rmSync(root, { recursive: true, force: true });
    mkdirSync(root);
    for (const e of entries) writeFileSync(join(root, e.path), readContent(e));
    const theirs = join(dir, "theirs.sqfs");
    rmSync(theirs, { force: true });
    sh(`mksquashfs ${q(root)} ${q(theirs)} -b 4k -comp gzip -no-xattrs -quiet >/dev/null`);
    const ours = await write("ours", entries);
    const listing = async (image: string) => {
      const src = fileSource(image);
      try {
        const out: string[] = [];
        for (const e of await collect(readSquashfs(src)))
          if (e.type === "file") out.push(`${e.path} ${e.size} ${sha(readContent(e))}`);
        return out.sort();
      } finally {
        src.close();
      }
    };
    expect(await listing(theirs)).toEqual(await listing(ours));
    // And the sizes are comparable: sparse blocks, fragments and duplicates as mksquashfs does them.
    expect(statSync(ours).size).toBeLessThanOrEqual(statSync(theirs).size * 1.01 + 4096);
  });
});
