// Mutation fuzzing: every reader answers malformed input with a clear error (a FormatError, or
// the MkError `cat` gives for a link that leads nowhere), never another exception, a hang or
// an unbounded allocation. Each case lists the container, then reads every listed path the
// way `mkbundle cat` does. MKBUNDLE_FUZZ_CASES=100000 for a long run.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { readCpio } from "../../src/formats/cpio/reader.js";
import { writeCpio } from "../../src/formats/cpio/writer.js";
import { gunzipSource } from "../../src/formats/gzip/inflate.js";
import { gzipSync } from "../../src/formats/gzip/writer.js";
import { readSquashfs } from "../../src/formats/squashfs/reader.js";
import { bufferSource } from "../../src/io/byte-source.js";
import { readIso } from "../../src/formats/iso9660/reader.js";
import { writeIso } from "../../src/formats/iso9660/writer.js";
import { readTar } from "../../src/formats/tar/reader.js";
import { readExt2 } from "../../src/formats/ext2/reader.js";
import { ext2Image } from "../../src/formats/ext2/writer.js";
import { readFat } from "../../src/formats/fat/reader.js";
import { fatImage } from "../../src/formats/fat/writer.js";
import { tarBytes } from "../../src/formats/tar/writer.js";
import { collect, type Entry } from "../../src/tree/entry.js";
import { reproducible } from "../../src/tree/reproducible.js";
import { MkError } from "../../src/errors.js";
import { lookup } from "../../src/inspect/open.js";
import { writeEntryData } from "../../src/inspect/stream-out.js";
import { fixturesDir } from "../helpers/paths.js";

const CASES = Number(process.env["MKBUNDLE_FUZZ_CASES"] ?? 3000);

function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

const INTERESTING = [0x00, 0xff, 0x7f, 0x80, 0x01, 0x30, 0x66];

/**
 * One to four mutations: bit flips, interesting bytes, 32-bit extremes, truncation, splices.
 * Half of them land on non-zero bytes, so sparse formats (ISO) get their structures hit.
 */
function mutate(input: Buffer, r: () => number, dense: number[]): Buffer {
  let b = Buffer.from(input);
  const n = 1 + Math.floor(r() * 4);
  for (let i = 0; i < n && b.length > 0; i++) {
    const pick = r() < 0.5 && dense.length ? dense[Math.floor(r() * dense.length)]! : Math.floor(r() * b.length);
    const at = Math.min(pick, b.length - 1);
    switch (Math.floor(r() * 6)) {
      case 0:
        b[at] = b[at]! ^ (1 << Math.floor(r() * 8));
        break;
      case 1:
        b[at] = INTERESTING[Math.floor(r() * INTERESTING.length)]!;
        break;
      case 2:
        if (at + 4 <= b.length) b.writeUInt32LE([0, 0xffffffff, 0x7fffffff, 0x80000000, 1][Math.floor(r() * 5)]!, at);
        break;
      case 3:
        b = b.subarray(0, at);
        break;
      case 4: {
        const from = Math.floor(r() * b.length);
        b = Buffer.concat([b.subarray(0, at), b.subarray(from, from + 1 + Math.floor(r() * 64)), b.subarray(at)]);
        break;
      }
      default:
        b.write("ffffffff", at, "latin1"); // hex fields of cpio headers
    }
  }
  return b;
}

/** The slowest case may take this long (a hang is any case beyond it). */
const MAX_CASE_MS = 10_000;
const MAX_RSS_MIB = 300;

/**
 * Runs `cases` inputs through `read`: every failure must be an MkError. Reports refusals, the
 * slowest case and the process's peak RSS; asserts no internal error and no hang.
 */
async function run(
  name: string,
  inputs: (i: number) => Buffer | Promise<Buffer>,
  read: (b: Buffer) => Promise<unknown>,
) {
  const unexpected: string[] = [];
  let rejected = 0;
  let slowest = 0;
  for (let i = 0; i < CASES; i++) {
    // A turn of the event loop between cases, as between commands: node:zlib's sync calls
    // that throw leave their engine to a nextTick, which a loop of promises alone never runs.
    if (i % 64 === 0) await new Promise((resolve) => setImmediate(resolve));
    const input = await inputs(i);
    const t0 = performance.now();
    try {
      await read(input);
    } catch (e) {
      if (e instanceof MkError) rejected++;
      else unexpected.push(`case ${i}: ${e instanceof Error ? `${e.constructor.name}: ${e.message}` : String(e)}`);
    }
    slowest = Math.max(slowest, performance.now() - t0);
  }
  const rssMiB = process.resourceUsage().maxRSS / 1024;
  expect(unexpected.slice(0, 5), `${name}: errors that are not FormatError`).toEqual([]);
  expect(rejected, `${name}: some inputs must be rejected`).toBeGreaterThan(0);
  expect(slowest, `${name}: the slowest case`).toBeLessThan(MAX_CASE_MS);
  expect(rssMiB, `${name}: peak RSS`).toBeLessThan(MAX_RSS_MIB);
  console.log(
    `fuzz ${name}: ${CASES} cases, ${rejected} refused with a clear error, 0 internal errors, ` +
      `slowest ${slowest.toFixed(0)} ms, peak RSS ${rssMiB.toFixed(0)} MiB`,
  );
}

/** Mutations of one seed. */
async function fuzz(name: string, seed: Buffer, read: (b: Buffer) => Promise<unknown>): Promise<void> {
  const r = rng(0x5eed + seed.length);
  const dense = [...seed.keys()].filter((i) => seed[i] !== 0);
  await run(name, () => mutate(seed, r, dense), read);
}

/**
 * Structure-aware: every case is a fresh random tree (nested directories, long and odd names,
 * links, empty and multi-block files) written by our writer, then mutated where its
 * structures are; an unmutated tenth must read back with every path.
 */
async function fuzzGenerated(
  name: string,
  write: (entries: Entry[]) => Promise<Buffer>,
  list: (b: Buffer) => Promise<AsyncIterable<Entry> | Iterable<Entry>>,
  opts: { hardlinks?: boolean; maxName?: number; keep?: (e: Entry) => boolean } = {},
): Promise<void> {
  const r = rng(0xc0ffee + name.length);
  let pristine = 0;
  await run(
    `${name} (generated trees)`,
    async (i) => {
      const tree = randomTree(r, opts).filter(opts.keep ?? (() => true));
      const bytes = await write(tree);
      if (i % 10 !== 0) return mutate(bytes, r, nonZeroSample(bytes, r));
      // Unmutated: every path written is read back.
      const read = new Set((await collect(await list(bytes))).map((e) => e.path));
      expect(tree.filter((e) => !read.has(e.path)).map((e) => e.path)).toEqual([]);
      pristine++;
      return bytes;
    },
    async (b) => drain(name, await list(b)),
  );
  expect(pristine).toBeGreaterThan(0);
}

/** Up to 64 positions of non-zero bytes, found by probing: where the structures are. */
function nonZeroSample(b: Buffer, r: () => number): number[] {
  const out: number[] = [];
  for (let tries = 0; tries < 4096 && out.length < 64; tries++) {
    const at = Math.floor(r() * b.length);
    if (b[at] !== 0) out.push(at);
  }
  return out;
}

function randomTree(r: () => number, opts: { hardlinks?: boolean; maxName?: number }): Entry[] {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const maxName = opts.maxName ?? 60;
  const name = () => {
    const alphabet = [..."abcdefghijklmnopqrstuvwxyzABC0123456789._- "];
    const n = 1 + Math.floor(r() * Math.min(maxName, r() < 0.2 ? maxName : 12));
    const s = Array.from({ length: n }, () => pick(alphabet))
      .join("")
      .replace(/^[. ]+|[. ]+$/g, "");
    return s || "x";
  };
  const dirs = [""];
  const out: Entry[] = [{ path: "", type: "dir", mode: 0o755, uid: 0, gid: 0, mtime: 1, size: 0 }];
  const seen = new Set([""]);
  const count = 1 + Math.floor(r() * 12);
  for (let i = 0; i < count; i++) {
    const parent = pick(dirs);
    const path = parent ? `${parent}/${name()}` : name();
    // Unique ignoring case: FAT (and Joliet readers) fold it.
    if (seen.has(path.toLowerCase())) continue;
    seen.add(path.toLowerCase());
    const kind = r();
    const files = out.filter((e) => e.type === "file");
    if (kind < 0.3 && path.split("/").length < 6) {
      dirs.push(path);
      out.push({ path, type: "dir", mode: 0o755, uid: 0, gid: 0, mtime: 1 + i, size: 0 });
    } else if (kind < 0.4) {
      out.push({ path, type: "symlink", mode: 0o777, uid: 0, gid: 0, mtime: 1, size: 0, linkTarget: name() });
    } else if (kind < 0.45 && opts.hardlinks && files.length) {
      out.push({ ...pick(files), path, type: "hardlink", size: 0, linkTarget: pick(files).path });
    } else {
      const size = pick([0, 1, 100, 2048, 5000, 70_000]);
      const fill = Math.floor(r() * 256);
      out.push({
        path,
        type: "file",
        mode: 0o644,
        uid: Math.floor(r() * 2000),
        gid: 0,
        mtime: Math.floor(r() * 2 ** 31),
        size,
        content: () => bufferSource(Buffer.alloc(size, fill)),
      });
    }
  }
  return out;
}

const discard = () =>
  new Writable({
    write(_chunk, _encoding, done) {
      done();
    },
  });

/** Lists the container, then `cat`s every path in it (links followed as cat follows them). */
async function drain(kind: string, entries: AsyncIterable<Entry> | Iterable<Entry>): Promise<void> {
  const layer = { label: "fuzz", kind, entries: await collect(entries) };
  for (const e of layer.entries) {
    const target = lookup(layer, e.path);
    if (target.type === "file") await writeEntryData(target, discard(), layer.label);
  }
}

const small: Entry[] = [
  { path: "", type: "dir", mode: 0o755, uid: 0, gid: 0, mtime: 1, size: 0 },
  { path: "etc", type: "dir", mode: 0o755, uid: 0, gid: 0, mtime: 1, size: 0 },
  {
    path: "etc/motd",
    type: "file",
    mode: 0o644,
    uid: 1000,
    gid: 50,
    mtime: 2,
    size: 6,
    content: () => bufferSource(Buffer.from("hello\n")),
  },
  { path: "etc/link", type: "symlink", mode: 0o777, uid: 0, gid: 0, mtime: 3, size: 0, linkTarget: "motd" },
  { path: "etc/hard", type: "hardlink", mode: 0o644, uid: 1000, gid: 50, mtime: 2, size: 0, linkTarget: "etc/motd" },
  { path: "dev", type: "dir", mode: 0o755, uid: 0, gid: 0, mtime: 1, size: 0 },
  { path: "dev/loop0", type: "block", mode: 0o660, uid: 0, gid: 6, mtime: 1, size: 0, rdevMajor: 7, rdevMinor: 0 },
];

describe(`mutation fuzzing (${CASES} cases per format)`, () => {
  it("cpio", async () => {
    const seed = Buffer.concat(await collect(writeCpio(small)));
    await fuzz("cpio", Buffer.concat([seed, seed]), (b) => drain("cpio", readCpio(b)));
  });

  it("gzip", async () => {
    const seed = gzipSync(Buffer.concat(await collect(writeCpio(small))));
    await fuzz("gzip", seed, async (b) =>
      gunzipSource(bufferSource(b), { limits: { entries: 1, bytes: 1 << 20, metadata: 1 << 20 } }),
    );
  });

  it("squashfs (a real .tcz)", async () => {
    const seed = readFileSync(join(fixturesDir(), "tinycore/4.x/x86/tcz/lzop.tcz"));
    await fuzz("squashfs", seed, async (b) => drain("squashfs", readSquashfs(b)));
  });

  it("squashfs, structure-aware: mutations aimed at the superblock and the inode, directory and id tables", async () => {
    // Real .tcz files of several shapes (mksquashfs wrote them); each mutation lands in the
    // superblock or in the metadata the superblock points at, never in file data.
    const seeds = ["lzop", "bash", "ncurses"].map((n) =>
      readFileSync(join(fixturesDir(), `tinycore/4.x/x86/tcz/${n}.tcz`)),
    );
    const r = rng(0x5afe);
    const targets = seeds.map((b) => {
      const inodes = Number(b.readBigUInt64LE(64));
      const used = Number(b.readBigUInt64LE(40));
      return [...Array(96).keys(), ...[...Array(Math.max(0, used - inodes)).keys()].map((k) => inodes + k)];
    });
    await run(
      "squashfs (metadata)",
      () => {
        const k = Math.floor(r() * seeds.length);
        return mutate(seeds[k]!, r, targets[k]!);
      },
      async (b) => drain("squashfs", readSquashfs(b)),
    );
  });

  it("iso9660 (Rock Ridge, Joliet, El Torito with a UEFI entry)", async () => {
    const chunks: Buffer[] = [];
    const boot: Entry = {
      path: "boot/isolinux.bin",
      type: "file",
      mode: 0o644,
      uid: 0,
      gid: 0,
      mtime: 1,
      size: 2048,
      content: () => bufferSource(Buffer.alloc(2048, 7)),
    };
    for await (const c of writeIso(
      [
        ...small.filter((e) => e.type !== "hardlink"),
        { ...small[2]!, path: "n".repeat(200) },
        boot,
        { ...boot, path: "efi.img", content: () => bufferSource(Buffer.alloc(4096, 3)), size: 4096 },
      ],
      { epoch: 1, boot: { imagePath: boot.path, catalogPath: "boot/boot.cat", efiImagePath: "efi.img" } },
    ))
      chunks.push(c);
    await fuzz("iso9660", Buffer.concat(chunks), async (b) =>
      drain("iso9660", (await readIso(bufferSource(b))).entries),
    );
  });

  it("fat (long names, nested directories)", async () => {
    const files: Entry[] = [
      { ...small[2]!, path: "EFI/BOOT/BOOTX64.EFI", content: () => bufferSource(Buffer.alloc(3000, 9)), size: 3000 },
      { ...small[2]!, path: "loader/entries/a long name.conf" },
      { ...small[2]!, path: "SHORT.TXT" },
    ];
    const seed = Buffer.concat(await collect(fatImage(files, { serial: 1, epoch: 1 }).stream()));
    await fuzz("fat", seed, async (b) => drain("fat", (await readFat(bufferSource(b))).entries));
  });

  it("ext2 (every kind of entry, a file through double indirect blocks, a long link)", async () => {
    const files: Entry[] = [
      ...small,
      { ...small[2]!, path: "big", size: 300_000, content: () => bufferSource(Buffer.alloc(300_000, 5)) },
      { ...small[3]!, path: "long-link", linkTarget: `${"./".repeat(35)}etc/motd` },
    ];
    const seed = Buffer.concat(
      await collect(
        ext2Image(reproducible(files, { epoch: 9 }), { size: 512 << 10, blockSize: 1024, epoch: 9 }).stream(),
      ),
    );
    await fuzz("ext2", seed, async (b) => drain("ext2", readExt2(bufferSource(b))));
  });

  it("tar", async () => {
    const seed = await tarBytes(small);
    await fuzz("tar", seed, async (b) => drain("tar", readTar(b)));
  });

  it("cpio, tar, ISO 9660, FAT and ext2 from generated trees", async () => {
    await fuzzGenerated(
      "ext2",
      async (t) =>
        Buffer.concat(
          await collect(
            ext2Image(reproducible(t, { epoch: 2 ** 31 }), { size: 1 << 20, blockSize: 1024, epoch: 2 ** 31 }).stream(),
          ),
        ),
      async (b) => readExt2(bufferSource(b)),
      { hardlinks: true, maxName: 255 },
    );
    await fuzzGenerated(
      "cpio",
      async (t) => Buffer.concat(await collect(writeCpio(t))),
      async (b) => readCpio(b),
      {
        hardlinks: true,
      },
    );
    await fuzzGenerated(
      "tar",
      (t) => tarBytes(t),
      async (b) => readTar(b),
      { hardlinks: true, maxName: 200 },
    );
    await fuzzGenerated(
      "iso9660",
      async (t) => Buffer.concat(await collect(writeIso(t, { epoch: 1 }))),
      async (b) => (await readIso(bufferSource(b))).entries,
      { maxName: 200 },
    );
    await fuzzGenerated(
      "fat",
      async (t) => Buffer.concat(await collect(fatImage(t, { serial: 1, epoch: 1 }).stream())),
      async (b) => (await readFat(bufferSource(b))).entries,
      { keep: (e) => e.type === "file" && e.size > 0 },
    );
  }, 600_000);
});
