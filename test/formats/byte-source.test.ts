// Reading into a caller's buffer (readInto, borrowedPieces) gives the bytes read() gives,
// for every kind of source, and the writers that reuse one buffer write what they wrote
// before: the reuse saves memory and must never change a byte.
import { createHash, randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { bundleBytes, bundleTar } from "../../src/formats/bundle/container.js";
import {
  borrowedPieces,
  bufferSource,
  fileSource,
  pathSource,
  readInto,
  sliceSource,
  type ByteSource,
} from "../../src/io/byte-source.js";
import { writeCpio } from "../../src/formats/cpio/writer.js";
import { writeIso } from "../../src/formats/iso9660/writer.js";
import { hashSource } from "../../src/io/hash.js";
import { fileEntry, fileFrom, type Entry } from "../../src/tree/entry.js";
import { writeFileAtomic } from "../../src/io/write-atomic.js";
import { tempDir } from "../helpers/tmp.js";

const { dir } = tempDir("mkbundle-byte-source-");
// 3.5 stored blocks of the bundle container, so reads cross block boundaries.
const data = randomBytes(65535 * 3 + 30000);

async function collect(chunks: AsyncIterable<Buffer> | Iterable<Buffer>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of chunks) out.push(Buffer.from(c)); // copied: a borrowed chunk changes later
  return Buffer.concat(out);
}

async function sources(): Promise<[string, ByteSource][]> {
  const path = join(dir, "data.bin");
  writeFileSync(path, data);
  const bundle = join(dir, "bundle.tar.gz");
  writeFileSync(
    bundle,
    await collect(
      bundleBytes([
        { name: "small.txt", source: bufferSource(Buffer.from("hello\n")), stored: false, mtime: 0 },
        { name: "data.bin", source: bufferSource(data), stored: true, mtime: 0 },
      ]),
    ),
  );
  const tar = (await bundleTar(fileSource(bundle)))!;
  // The stored member's data starts after its 512-byte header, which follows small.txt's block.
  const inBundle = sliceSource(tar, 512 + 512 + 512, data.length);
  return [
    ["buffer", bufferSource(data)],
    ["file", fileSource(path)],
    ["path", pathSource(path)],
    ["slice", sliceSource(bufferSource(Buffer.concat([Buffer.alloc(7), data, Buffer.alloc(9)])), 7, data.length)],
    ["bundle member", inBundle],
  ];
}

describe("reading into a caller's buffer", () => {
  it("readInto gives read()'s bytes for every source, at block edges and at the end", async () => {
    for (const [name, src] of await sources()) {
      expect(src.size, name).toBe(data.length);
      for (const [offset, length] of [
        [0, 10],
        [65530, 20],
        [65535 * 2 - 1, 65537],
        [data.length - 5, 100],
        [data.length, 10],
      ] as const) {
        const target = Buffer.alloc(length, 0xee);
        const n = readInto(src, target, offset);
        const expected = data.subarray(offset, offset + length);
        expect(n, `${name} @${offset}`).toBe(expected.length);
        expect(target.subarray(0, n).equals(expected), `${name} @${offset}`).toBe(true);
        expect(src.read(offset, length).equals(expected), `${name} read @${offset}`).toBe(true);
      }
    }
  });

  it("borrowedPieces yields the whole source through one small buffer", async () => {
    for (const [name, src] of await sources()) {
      const scratch = Buffer.alloc(4096);
      const pieces: Buffer[] = [];
      for (const p of borrowedPieces(src, scratch)) {
        expect(p.buffer).toBe(scratch.buffer); // the same memory every time: copied before the next
        pieces.push(Buffer.from(p));
      }
      expect(Buffer.concat(pieces).equals(data), name).toBe(true);
    }
  });

  it("writing a file from one reused buffer keeps every chunk's bytes", async () => {
    const scratch = Buffer.alloc(1000);
    const reused = async function* () {
      for (let i = 0; i < 3000; i++) {
        scratch.fill(i % 251, 0, 1 + (i % 1000));
        yield scratch.subarray(0, 1 + (i % 1000)); // small and large chunks, all the same memory
      }
    };
    const path = join(dir, "reused.bin");
    await writeFileAtomic(path, reused());
    const expected = Buffer.concat([...Array(3000).keys()].map((i) => Buffer.alloc(1 + (i % 1000), i % 251)));
    expect(readFileSync(path).equals(expected)).toBe(true);
  });

  it("cpio and ISO writers write the same bytes with and without a reused buffer", async () => {
    const big = randomBytes(3 * 1024 * 1024 + 123);
    const src = bufferSource(big);
    const entries: Entry[] = [
      { path: "d", type: "dir", mode: 0o755, uid: 0, gid: 0, mtime: 1, size: 0 },
      fileFrom("d/big", src, 1),
      fileEntry("d/small", Buffer.from("small\n"), 1),
    ];
    const cpioPlain = await collect(writeCpio(entries));
    const cpioReused = await collect(writeCpio(entries, { reuseBuffer: true }));
    expect(cpioReused.equals(cpioPlain)).toBe(true);
    expect(cpioPlain.includes(big.subarray(0, 4096))).toBe(true);
    const isoPlain = await collect(writeIso(entries, { epoch: 1 }));
    const isoReused = await collect(writeIso(entries, { epoch: 1, reuseBuffer: true }));
    expect(isoReused.equals(isoPlain)).toBe(true);
    expect(isoPlain.includes(big.subarray(big.length - 4096))).toBe(true);
  });

  it("hashSource gives the sha256 of the bytes and lets the event loop run on a source that reads short", async () => {
    // 200 MB of a repeating pattern, handed out 999,999 bytes at a time (a source may return
    // fewer bytes than asked): the hash must still yield every 64 MiB, so signals are heard.
    const pattern = randomBytes(999_999);
    const size = 200 * 999_999 + 17;
    const src: ByteSource = {
      size,
      read: (o, n) =>
        Buffer.concat([pattern.subarray(o % 999_999), pattern]).subarray(
          0,
          Math.min(n, size - o, 999_999 - (o % 999_999)),
        ),
      close: () => {},
    };
    let ticks = 0;
    const tick = setInterval(() => ticks++, 0);
    const digest = await hashSource(src).finally(() => clearInterval(tick));
    const expected = createHash("sha256");
    for (let i = 0; i < 200; i++) expected.update(pattern);
    expected.update(pattern.subarray(0, 17));
    expect(digest).toBe(expected.digest("hex"));
    expect(ticks).toBeGreaterThan(0);
  });
});
