// Debian packages as dpkg-deb writes them (data.tar uncompressed, gzip'd and xz'd): the
// members ar lists and the files dpkg-deb -c lists, with the same bytes; zstd is named and
// refused. A truncated package, a member that claims more bytes than the file has, a file
// that is no ar archive, damaged xz and an xz bomb are one FormatError each.
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FormatError } from "../../src/errors.js";
import { arMembers, debDataTar } from "../../src/formats/deb/ar.js";
import { DEFAULT_LIMITS } from "../../src/formats/limits.js";
import { tar } from "../../src/formats/tar/codec.js";
import { xzSource } from "../../src/formats/xz/decompress.js";
import { bufferSource } from "../../src/io/byte-source.js";
import { collect, readContent } from "../../src/tree/entry.js";
import { pattern } from "../helpers/entries.js";
import { q, sh } from "../helpers/run.js";
import { tempDir } from "../helpers/tmp.js";

const { dir } = tempDir("mkbundle-deb-");

function packageWith(compression: string): Buffer {
  const root = join(dir, `pkg-${compression}`);
  mkdirSync(join(root, "DEBIAN"), { recursive: true });
  mkdirSync(join(root, "lib/modules/9.9.9/kernel/extra"), { recursive: true });
  writeFileSync(
    join(root, "DEBIAN/control"),
    "Package: demo\nVersion: 1.0\nArchitecture: all\nMaintainer: t <t@example.org>\nDescription: demo\n",
  );
  writeFileSync(join(root, "lib/modules/9.9.9/kernel/extra/demo.ko"), pattern(300_000, 3));
  writeFileSync(join(root, "lib/modules/9.9.9/modules.order"), "kernel/extra/demo.ko\n");
  chmodSync(root, 0o755);
  const out = join(dir, `demo-${compression}.deb`);
  sh(`dpkg-deb --root-owner-group -Z${compression} --build ${q(root)} ${q(out)} >/dev/null`);
  return readFileSync(out);
}

const refused = async (work: () => Promise<unknown>): Promise<string> => {
  try {
    await work();
  } catch (e) {
    expect(e).toBeInstanceOf(FormatError);
    return (e as FormatError).message;
  }
  return "read";
};

describe("Debian packages", () => {
  it("reads what ar and dpkg-deb read, for data.tar, .gz and .xz; names zstd and refuses it", async () => {
    for (const z of ["none", "gzip", "xz"]) {
      const deb = packageWith(z);
      const file = join(dir, `demo-${z}.deb`);
      expect(arMembers(bufferSource(deb)).map((m) => m.name)).toEqual(
        sh(`ar t ${q(file)}`)
          .toString()
          .trim()
          .split("\n"),
      );
      const entries = await collect(
        tar.read(await debDataTar(bufferSource(deb), DEFAULT_LIMITS, "demo"), DEFAULT_LIMITS),
      );
      const theirs = sh(`dpkg-deb -c ${q(file)}`)
        .toString()
        .trim()
        .split("\n")
        .map((l) => l.split(/\s+/).pop()!.replace(/^\.\//, "").replace(/\/$/, ""))
        .filter(Boolean);
      expect(
        entries
          .map((e) => e.path)
          .filter(Boolean)
          .sort(),
      ).toEqual(theirs.sort());
      const ko = entries.find((e) => e.path === "lib/modules/9.9.9/kernel/extra/demo.ko")!;
      expect(readContent(ko).equals(pattern(300_000, 3))).toBe(true);
    }
    const zstd = packageWith("zstd");
    expect(await refused(() => debDataTar(bufferSource(zstd), DEFAULT_LIMITS, "demo"))).toContain(
      "data.tar.zst: only data.tar, data.tar.gz and data.tar.xz are read",
    );
  });

  it("refuses truncated, lying and hostile packages and xz streams with one FormatError", async () => {
    const deb = packageWith("xz");
    for (const cut of [0, 7, 8, 30, 68, 200, deb.length - 1])
      expect(await refused(async () => debDataTar(bufferSource(deb.subarray(0, cut)), DEFAULT_LIMITS, "d"))).toMatch(
        /^(deb|xz): /,
      );
    const lying = Buffer.from(deb);
    lying.write("9999999999", 8 + 48, "latin1");
    expect(await refused(async () => arMembers(bufferSource(lying)))).toContain("claims 9999999999 bytes");
    expect(await refused(async () => arMembers(bufferSource(Buffer.from("not an archive"))))).toContain("bad magic");
    const damaged = Buffer.from(deb);
    const data = deb.indexOf("data.tar.xz") + 60;
    damaged.fill(0x41, data + 100, data + 200);
    expect(await refused(() => debDataTar(bufferSource(damaged), DEFAULT_LIMITS, "d"))).toMatch(
      /^xz: corrupt or truncated/,
    );
    // 64 MiB of zeros in a few KiB of xz, read with a 16 MiB ceiling.
    const bomb = sh("head -c 67108864 /dev/zero | xz -9 -c");
    expect(bomb.length).toBeLessThan(64 * 1024);
    expect(
      await refused(() => xzSource(bufferSource(bomb), { limits: { ...DEFAULT_LIMITS, bytes: 16 * 1024 * 1024 } })),
    ).toContain("decompresses to more than 16777216 bytes");
  });
});
