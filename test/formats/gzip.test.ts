// gzip both ways: gzip(1) and zcat read ours; we read gzip -9 output and multi-member streams.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { gunzipSource } from "../../src/formats/gzip/inflate.js";
import { bufferSource } from "../../src/io/byte-source.js";
import { CHUNK, gzip, gzipSync } from "../../src/formats/gzip/writer.js";
import { FormatError } from "../../src/errors.js";
import { q, sh } from "../helpers/run.js";
import { tempDir } from "../helpers/tmp.js";
import { pseudoRandom } from "../helpers/tree.js";

const { dir } = tempDir("mkbundle-gzip-");

/** Mixed text and noise over several chunks, so dictionaries and sync flushes matter. */
function sample(size: number): Buffer {
  const text = Buffer.from(
    "Tiny Core Linux extension list: bash dmidecode lshw openssh\n".repeat(Math.ceil(size / 120)),
  );
  return Buffer.concat([text.subarray(0, size >> 1), pseudoRandom(size - (size >> 1), 7)]);
}

describe("gzip writer", () => {
  const input = sample(3 * CHUNK + 12345);

  it("is read by gzip -t and zcat, byte-identical with 1 and 2 threads, at every level", async () => {
    for (const level of [1, 6, 8, 9]) {
      const one = await gzip(input, { level, threads: 1 });
      const two = await gzip(input, { level, threads: 2 });
      expect(two.equals(one), `level ${level}`).toBe(true);
      const file = join(dir, `ours-${level}.gz`);
      writeFileSync(file, two);
      sh(`gzip -t ${q(file)}`);
      expect(sh(`zcat ${q(file)}`).equals(input)).toBe(true);
    }
  });

  it("gives the same bytes when streams run at once and share the block pool", async () => {
    const other = sample(5 * CHUNK + 777).reverse();
    const alone = [await gzip(input, { threads: 2 }), await gzip(other, { threads: 2 })];
    for (let round = 0; round < 3; round++) {
      const together = await Promise.all([
        gzip(input, { threads: 2 }),
        gzip(other, { threads: 2 }),
        gzip(input, { threads: 1 }),
      ]);
      expect(together[0].equals(alone[0]!)).toBe(true);
      expect(together[1].equals(alone[1]!)).toBe(true);
      expect(together[2].equals(alone[0]!)).toBe(true);
    }
    expect(gunzipSync(alone[1]!).equals(other)).toBe(true);
  });

  it("writes one member with a fixed header (mtime 0, OS 3) and the whole input's CRC and length", async () => {
    const out = await gzip(input, { threads: 2 });
    // XFL as gzip(1) sets it: 0 for the default level 8, 2 for level 9, 4 for level 1.
    expect([...out.subarray(0, 10)]).toEqual([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]);
    expect((await gzip(input, { level: 9 }))[8]).toBe(2);
    expect((await gzip(input, { level: 1 }))[8]).toBe(4);
    const file = join(dir, "one-member.gz");
    writeFileSync(file, out);
    const listing = sh(`gzip -lv ${q(file)}`).toString();
    expect(listing).toContain(String(input.length));
    expect(
      sh(`gzip -dc ${q(file)} | wc -c`)
        .toString()
        .trim(),
    ).toBe(String(input.length));
  });

  it("takes a list of buffers and empty input", async () => {
    expect((await gzip([input.subarray(0, 10), input.subarray(10)], { threads: 2 })).equals(gzipSync(input))).toBe(
      true,
    );
    const empty = gzipSync(Buffer.alloc(0));
    expect(sh("gzip -dc", { input: empty }).length).toBe(0);
  });

  it("rejects levels outside 1..9", async () => {
    await expect(gzip(input, { level: 0 })).rejects.toThrow(/1\.\.9/);
  });
});

describe("gzip reader", () => {
  const gunzip = async (b: Buffer, bytes = 2 ** 31) => {
    const out = await gunzipSource(bufferSource(b), { limits: { entries: 1, bytes, metadata: 1 << 20 } });
    return out.read(0, out.size);
  };

  it("reads gzip -9 output and multi-member streams with trailing NUL padding", async () => {
    const a = Buffer.from("first member\n");
    const b = sample(200_000);
    const ga = sh("gzip -9c", { input: a });
    const gb = sh("gzip -9c", { input: b });
    expect((await gunzip(ga)).equals(a)).toBe(true);
    expect((await gunzip(Buffer.concat([ga, gb, Buffer.alloc(512)]))).equals(Buffer.concat([a, b]))).toBe(true);
  });

  it("reports truncation, corruption and bombs as format errors", async () => {
    const g = sh("gzip -9c", { input: sample(100_000) });
    await expect(gunzip(g.subarray(0, g.length - 20))).rejects.toThrow(/truncated/);
    const bad = Buffer.from(g);
    bad[g.length >> 1] = bad[g.length >> 1]! ^ 0xff;
    await expect(gunzip(bad)).rejects.toThrow(FormatError);
    await expect(gunzip(Buffer.from("not gzip"))).rejects.toThrow(/bad magic/);
    const bomb = sh("head -c 50000000 /dev/zero | gzip -1c");
    await expect(gunzip(bomb, 1_000_000)).rejects.toThrow(/more than 1000000 bytes/);
  });
});
