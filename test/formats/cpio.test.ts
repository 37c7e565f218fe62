// cpio newc both ways against GNU cpio, on a tree with every entry type.
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { readCpio } from "../../src/formats/cpio/reader.js";
import { writeCpio } from "../../src/formats/cpio/writer.js";
import { collect as collectAll } from "../../src/tree/entry.js";
import { gunzipSource } from "../../src/formats/gzip/inflate.js";
import { fileEntry, openContent, readContent, type Entry } from "../../src/tree/entry.js";
import { FormatError } from "../../src/errors.js";
import { q, sh } from "../helpers/run.js";
import { tempDir } from "../helpers/tmp.js";
import { makeEveryTypeTree, summarizeDisk, summarizeEntries, UTF8_NAME, type Summary } from "../helpers/tree.js";
import { bufferSource, type ByteSource } from "../../src/io/byte-source.js";

const cpioBytes = async (entries: Parameters<typeof writeCpio>[0]) =>
  Buffer.concat(await collectAll(writeCpio(entries)));

const { dir } = tempDir("mkbundle-cpio-");
const tree = join(dir, "tree");
const second = join(dir, "second");

async function collect(src: Buffer | ByteSource): Promise<Entry[]> {
  const out: Entry[] = [];
  for await (const e of readCpio(src)) out.push(e);
  return out;
}

beforeAll(() => {
  makeEveryTypeTree(tree, { socket: true });
  mkdirSync(join(second, "lib/modules/3.0.21-tinycore"), { recursive: true });
  writeFileSync(join(second, "lib/modules/3.0.21-tinycore/modules.dep"), "x.ko:\n");
});

describe("cpio reader against GNU cpio", () => {
  it("reads two gzip'd GNU archives concatenated, every entry type intact", async () => {
    sh(`cd ${q(tree)} && find . | LC_ALL=C sort | cpio -o -H newc --quiet > ../a.cpio`);
    sh(`cd ${q(second)} && find . | LC_ALL=C sort | cpio -o -H newc --quiet > ../b.cpio`);
    // Like Tiny Core's core.gz: rootfs and modules, one gzip stream of both.
    sh(`cd ${q(dir)} && cat a.cpio b.cpio | gzip -9 > pair.cpio.gz`);
    const entries = await collect(await gunzipSource(bufferSource(readFileSync(join(dir, "pair.cpio.gz")))));
    const first = entries.slice(
      0,
      entries.findIndex((e, i) => i > 0 && e.path === ""),
    );
    expect(await summarizeEntries(first, { mtime: true })).toEqual(summarizeDisk(tree, { mtime: true }));
    expect(entries.map((e) => e.path)).toContain("lib/modules/3.0.21-tinycore/modules.dep");
    const dev = entries.find((e) => e.path === "loop0")!;
    expect([dev.type, dev.rdevMajor, dev.rdevMinor]).toEqual(["block", 7, 0]);
    const owned = entries.find((e) => e.path === "owned")!;
    expect([owned.uid, owned.gid]).toEqual([1000, 50]);
    expect(entries.find((e) => e.path === "setuid-tool")!.mode).toBe(0o4755);
  });

  it("reads the crc format (070702) and checks its sums", async () => {
    const crc = sh(`cd ${q(tree)} && find . | LC_ALL=C sort | cpio -o -H crc --quiet`);
    expect(await summarizeEntries(await collect(crc))).toEqual(summarizeDisk(tree));
    const bad = Buffer.from(crc);
    const at = bad.indexOf("abcde"); // the data of "five"
    bad[at] = 0x41;
    // Listing reads no data (as cpio -t); reading the file checks its sum.
    const listed = await collect(bad);
    expect(() => listed.filter((e) => e.type === "file").forEach((e) => readContent(e))).toThrow(
      /checksum mismatch for 'five'/,
    );
  });

  it("checks the crc format's sums of large files, read a piece at a time (every byte counts)", async () => {
    const big = join(dir, "crc-big");
    mkdirSync(big, { recursive: true });
    // Over 1 MiB, not a multiple of 4, and long runs of 0xff: the widest sums each lane can hold.
    writeFileSync(join(big, "random"), randomBytes(3 * 1024 * 1024 + 3));
    writeFileSync(join(big, "ones"), Buffer.alloc(2 * 1024 * 1024 + 1, 0xff));
    const crc = sh(`cd ${q(big)} && find . | LC_ALL=C sort | cpio -o -H crc --quiet`);
    const good = (await collect(crc)).filter((e) => e.type === "file");
    expect(good.map((e) => e.size)).toEqual([2 * 1024 * 1024 + 1, 3 * 1024 * 1024 + 3]);
    for (const e of good) expect(readContent(e).equals(readFileSync(join(big, e.path))), e.path).toBe(true);
    for (const [name, size] of [
      ["ones", 2 * 1024 * 1024 + 1],
      ["random", 3 * 1024 * 1024 + 3],
    ] as const) {
      for (const where of [0, size - 1]) {
        const bad = Buffer.from(crc);
        // The data follows the name (GNU cpio drops find's "./") and its NUL, padded to a multiple of 4.
        const start = Math.ceil((bad.indexOf(`${name}\0`, 0, "latin1") + name.length + 1) / 4) * 4;
        bad[start + where] = bad[start + where]! ^ 0x01;
        const e = (await collect(bad)).find((x) => x.path === name)!;
        expect(() => readContent(e), `${name} byte ${where}`).toThrow(new RegExp(`checksum mismatch for '${name}'`));
        // Read out of order: the bytes skipped are counted before any is handed out.
        expect(() => openContent(e).read(size - 10, 10), `${name} tail first`).toThrow(/checksum mismatch/);
      }
    }
  });

  it("reads Tiny Core's own initrd like GNU cpio does", async () => {
    const { fixturesDir } = await import("../helpers/paths.js");
    const core = readFileSync(join(fixturesDir(), "tinycore/4.x/x86/release/distribution_files/core.gz"));
    const ours = await collect(await gunzipSource(bufferSource(core)));
    const theirs = sh("zcat | cpio -t --quiet", { input: core }).toString().trim().split("\n");
    expect(ours.map((e) => e.path || ".")).toEqual(theirs);
  });
});

describe("cpio writer read by GNU cpio", () => {
  it("extracts with cpio -idm to the same tree, and cpio -tv lists every entry", async () => {
    const entries = await collect(sh(`cd ${q(tree)} && find . | LC_ALL=C sort | cpio -o -H newc --quiet`));
    const ours = await cpioBytes(entries);
    expect(ours.length % 512).toBe(0);
    const out = join(dir, "extracted");
    mkdirSync(out);
    sh(`cpio -idm --quiet --no-absolute-filenames`, { cwd: out, input: ours });
    // GNU cpio -idm does not restore the times of directories that get children after
    // their own entry (true of its own archives too), so directory times are compared
    // through `cpio -tv` below and through our reader in the next test.
    const noDirTimes = (s: Summary[]) => s.map((x) => (x.type === "dir" ? { ...x, mtime: undefined } : x));
    expect(noDirTimes(summarizeDisk(out, { mtime: true }))).toEqual(noDirTimes(summarizeDisk(tree, { mtime: true })));
    const listing = sh("cpio -tv --quiet", { input: ours }).toString();
    expect(listing.trim().split("\n")).toHaveLength(entries.length);
    expect(listing).toMatch(/^brw-rw----\s+1 root\s+root\s+7,\s+0 .* loop0$/m);
    expect(listing).toContain(UTF8_NAME);
    expect(listing).toMatch(/^drwxrwxrwt .* Sep 13 {2}2020 tmp$/m);
  });

  it("is deterministic, and a round trip through our reader is exact", async () => {
    const entries = await collect(sh(`cd ${q(tree)} && find . | LC_ALL=C sort | cpio -o -H newc --quiet`));
    const a = await cpioBytes(entries);
    const b = await cpioBytes(entries);
    expect(a.equals(b)).toBe(true);
    expect(await summarizeEntries(await collect(a), { mtime: true, root: true })).toEqual(
      await summarizeEntries(entries, { mtime: true, root: true }),
    );
    expect((await cpioBytes(await collect(a))).equals(a)).toBe(true);
  });

  it("writes hard links as GNU does: one group, data on the last link", async () => {
    const file: Entry = {
      path: "a",
      type: "file",
      mode: 0o644,
      uid: 0,
      gid: 0,
      mtime: 1,
      size: 4,
      content: () => bufferSource(Buffer.from("data")),
    };
    const links: Entry[] = ["b", "c"].map((p) => ({
      path: p,
      type: "hardlink",
      mode: 0o644,
      uid: 0,
      gid: 0,
      mtime: 1,
      size: 0,
      linkTarget: "a",
    }));
    const out = await cpioBytes([file, ...links]);
    const listing = sh("cpio -tv --quiet", { input: out }).toString().trim().split("\n");
    expect(listing.map((l) => l.split(/\s+/).slice(1, 2)[0])).toEqual(["3", "3", "3"]); // nlink
    expect(listing.map((l) => l.split(/\s+/)[4])).toEqual(["0", "0", "4"]); // sizes
  });

  it("refuses files of 4 GiB or more with a clear error", async () => {
    const huge = { ...fileEntry("big", Buffer.alloc(0), 0), size: 2 ** 32 };
    await expect(cpioBytes([huge])).rejects.toThrow(/cannot store files of 4 GiB or more/);
  });
});

describe("cpio hostile input", () => {
  const valid = () => cpioBytes([fileEntry("x", Buffer.from("abc"), 0)]);

  it("reports truncation at every byte", async () => {
    const v = await valid();
    const end = v.indexOf("TRAILER!!!") - 110; // truncating inside the trailer or padding
    for (let n = 1; n < end; n++) {
      await expect(collect(v.subarray(0, n)), `truncated at ${n}`).rejects.toBeInstanceOf(FormatError);
    }
  });

  it("rejects bad magic, non-hex fields, huge sizes and '..' names", async () => {
    const v = await valid();
    const withField = (field: number, hex: string) => {
      const b = Buffer.from(v);
      b.write(hex, 6 + field * 8, "latin1");
      return b;
    };
    await expect(collect(Buffer.from("garbage".repeat(30)))).rejects.toThrow(/bad magic/);
    await expect(collect(withField(6, "zzzzzzzz"))).rejects.toThrow(/not hexadecimal/);
    await expect(collect(withField(6, "ffffffff"))).rejects.toThrow(/truncated/);
    await expect(collect(withField(11, "ffffffff"))).rejects.toThrow(/name size/);
    const evil = await cpioBytes([
      { path: "a/../../etc/passwd", type: "file", mode: 0o644, uid: 0, gid: 0, mtime: 0, size: 0 },
    ]);
    await expect(collect(evil)).rejects.toThrow(/contains '\.\.'/);
    await expect(collect(Buffer.alloc(0))).rejects.toThrow(/empty input/);
  });

  it("strips a leading '/' as GNU cpio does", async () => {
    const abs = await cpioBytes([{ path: "/etc/x", type: "file", mode: 0o644, uid: 0, gid: 0, mtime: 0, size: 0 }]);
    expect((await collect(abs)).map((e) => e.path)).toEqual(["etc/x"]);
  });
});

describe("the crc format's byte sum", () => {
  it("is the plain sum of the bytes, for any length and any alignment", async () => {
    const { byteSum } = await import("../../src/formats/cpio/checksum.js");
    const data = Buffer.concat([randomBytes(70_001), Buffer.alloc(70_001, 0xff)]);
    for (const [from, to] of [
      [0, 0],
      [0, 1],
      [1, 4],
      [3, 70_000],
      [2, data.length],
      [5, data.length - 3],
    ] as const) {
      let plain = 0;
      for (let i = from; i < to; i++) plain = (plain + data[i]!) % 2 ** 32;
      expect(byteSum(data.subarray(from, to)), `${from}..${to}`).toBe(plain);
    }
  });
});
