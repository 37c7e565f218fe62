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
import { readFat } from "../../src/formats/fat/reader.js";
import { fatImage } from "../../src/formats/fat/writer.js";
import { tarBytes } from "../../src/formats/tar/writer.js";
import { collect, type Entry } from "../../src/tree/entry.js";
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

async function fuzz(name: string, seed: Buffer, read: (b: Buffer) => Promise<unknown>): Promise<void> {
  const r = rng(0x5eed + seed.length);
  const started = Date.now();
  const unexpected: string[] = [];
  let rejected = 0;
  const dense = [...seed.keys()].filter((i) => seed[i] !== 0);
  for (let i = 0; i < CASES; i++) {
    const input = mutate(seed, r, dense);
    try {
      await read(input);
    } catch (e) {
      if (e instanceof MkError) rejected++;
      else unexpected.push(`case ${i}: ${e instanceof Error ? `${e.constructor.name}: ${e.message}` : String(e)}`);
    }
  }
  expect(unexpected.slice(0, 5), `${name}: errors that are not FormatError`).toEqual([]);
  expect(rejected, `${name}: some mutations must be rejected`).toBeGreaterThan(0);
  // A sanity bound, not a benchmark: thousands of small inputs finish in seconds.
  expect(Date.now() - started).toBeLessThan(120_000);
  console.log(`fuzz ${name}: ${CASES} cases, ${rejected} refused with a clear error, 0 internal errors`);
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
    await fuzz("gzip", seed, async (b) => gunzipSource(bufferSource(b), { limits: { entries: 1, bytes: 1 << 20 } }));
  });

  it("squashfs (a real .tcz)", async () => {
    const seed = readFileSync(join(fixturesDir(), "tinycore/4.x/x86/tcz/lzop.tcz"));
    await fuzz("squashfs", seed, async (b) => drain("squashfs", readSquashfs(b)));
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
    await fuzz("iso9660", Buffer.concat(chunks), async (b) => drain("iso9660", readIso(bufferSource(b)).entries));
  });

  it("fat (long names, nested directories)", async () => {
    const files: Entry[] = [
      { ...small[2]!, path: "EFI/BOOT/BOOTX64.EFI", content: () => bufferSource(Buffer.alloc(3000, 9)), size: 3000 },
      { ...small[2]!, path: "loader/entries/a long name.conf" },
      { ...small[2]!, path: "SHORT.TXT" },
    ];
    const seed = Buffer.concat(await collect(fatImage(files, { serial: 1, epoch: 1 }).stream()));
    await fuzz("fat", seed, async (b) => drain("fat", readFat(bufferSource(b)).entries));
  });

  it("tar", async () => {
    const seed = await tarBytes(small);
    await fuzz("tar", seed, async (b) => drain("tar", readTar(b)));
  });
});
