// A base assembled from distribution files: the same parts give the same bytes, xorriso
// sees the El Torito entry and the isohybrid MBR, and mkbundle reads it as any Core ISO.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { assembleBaseIso, type BaseParts } from "../../src/tinycore/assemble-base.js";
import { DEFAULT_LIMITS } from "../../src/formats/limits.js";
import { openBaseImage } from "../../src/tinycore/base-image.js";
import { writeNewFile } from "../../src/io/write-atomic.js";
import { fixturesDir } from "../helpers/paths.js";
import { ISOLINUX, sha256 } from "../helpers/pure64.js";
import { q, sh } from "../helpers/run.js";
import { tempDir } from "../helpers/tmp.js";

const { dir } = tempDir("mkbundle-assemble-");
const dist = () => join(fixturesDir(), "tinycore/10.x/x86_64/release/distribution_files");
const parts = (isolinux: boolean): BaseParts => ({
  kernel: { name: "vmlinuz64", path: join(dist(), "vmlinuz64") },
  initrds: [{ name: "corepure64.gz", path: join(dist(), "corepure64.gz") }],
  ...(isolinux ? { isolinux: { bin: ISOLINUX.bin, ldlinux: ISOLINUX.ldlinux, mbr: ISOLINUX.mbr } } : {}),
});

describe("assembling a base ISO from distribution files", () => {
  it("is reproducible, bootable by El Torito with an isohybrid MBR, and reads as a Tiny Core base", async () => {
    const [a, b] = [join(dir, "a.iso"), join(dir, "b.iso")];
    await writeNewFile(a, assembleBaseIso(parts(true)));
    await writeNewFile(b, assembleBaseIso(parts(true)));
    expect(sha256(a)).toBe(sha256(b));
    const report = sh(`xorriso -indev ${q(a)} -report_el_torito plain -report_system_area plain 2>&1`).toString();
    expect(report).toMatch(/El Torito boot img :\s+1\s+BIOS\s+y\s+none/);
    expect(report).toMatch(/El Torito img path :\s+1\s+\/boot\/isolinux\/isolinux\.bin/);
    expect(report).toMatch(/System area summary: MBR isohybrid/);
    expect(
      sh(`isoinfo -R -f -i ${q(a)}`)
        .toString()
        .split("\n")
        .filter(Boolean)
        .sort(),
    ).toEqual([
      "/boot",
      "/boot/corepure64.gz",
      "/boot/isolinux",
      "/boot/isolinux/boot.cat",
      "/boot/isolinux/isolinux.bin",
      "/boot/isolinux/isolinux.cfg",
      "/boot/isolinux/ldlinux.c32",
      "/boot/vmlinuz64",
    ]);
    const base = await openBaseImage(a, DEFAULT_LIMITS);
    try {
      expect(base.boot).toMatchObject({ kernel: "boot/vmlinuz64", initrds: ["boot/corepure64.gz"] });
      expect(base.boot.label.append).toEqual(["loglevel=3"]);
      expect(await base.kernelRelease()).toEqual({ release: "6.1.0-57-amd64", source: "initrd lib/modules" });
    } finally {
      base.close();
    }
  });

  it("without ISOLINUX: the files and isolinux.cfg, no boot record", async () => {
    const c = join(dir, "c.iso");
    await writeNewFile(c, assembleBaseIso(parts(false)));
    expect(sh(`xorriso -indev ${q(c)} -report_el_torito plain 2>&1`).toString()).not.toMatch(/El Torito boot img/);
    const base = await openBaseImage(c, DEFAULT_LIMITS);
    try {
      expect(base.iso.boot).toBeUndefined();
      expect(base.boot.initrds).toEqual(["boot/corepure64.gz"]);
    } finally {
      base.close();
    }
  });
});
