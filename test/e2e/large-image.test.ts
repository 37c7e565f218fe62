// Memory does not scale with the image: a generated image with a 200+ MiB unpacked initrd
// is bundled and remastered under a 96 MiB V8 heap, and GNU cpio finds every file in the
// initrd the ISO boots, with the right bytes.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BIN, cleanEnv } from "../helpers/cli.js";
import { fixturesDir } from "../helpers/paths.js";
import { q, sh } from "../helpers/run.js";
import { tempDir } from "../helpers/tmp.js";

const { dir } = tempDir("mkbundle-large-");
const FILES = 210;
const MIB = 1024 * 1024;

/** mkbundle under a 96 MiB heap and GNU time: its exit status and peak RSS. */
function heapLimited(args: string[]): { code: number; stderr: string; rssMiB: number } {
  const timeFile = join(dir, "time.txt");
  const r = spawnSync(
    "/usr/bin/time",
    ["-f", "%M", "-o", timeFile, process.execPath, "--max-old-space-size=96", BIN, ...args],
    { env: cleanEnv(), encoding: "utf8", timeout: 600_000 },
  );
  return { code: r.status ?? -1, stderr: r.stderr, rssMiB: Number(readFileSync(timeFile, "utf8").trim()) / 1024 };
}

describe("a 200 MiB initrd", () => {
  it("is bundled and remastered under a 96 MiB heap, and every file is in the initrd", () => {
    // Random bytes: the compressor stores them (already incompressible), so the test spends
    // its time on the pipeline's memory, not on deflate.
    mkdirSync(join(dir, "payload"));
    const files: string[] = [];
    for (let i = 0; i < FILES; i++) {
      const name = `blob-${String(i).padStart(3, "0")}.bin`;
      writeFileSync(join(dir, "payload", name), randomBytes(MIB));
      files.push(`  - path: /opt/payload/${name}\n    source: payload/${name}`);
    }
    const manifest = join(dir, "large.yaml");
    writeFileSync(
      manifest,
      `name: large\nversion: 1.0.0\nflavour: dev\nbase:\n  iso: Core-4.4.iso\nfiles:\n${files.join("\n")}\n`,
    );
    const mirror = join(fixturesDir(), "tinycore");
    const common = ["--mirror", mirror, "--work-dir", join(dir, "wd"), "--out", join(dir, "out"), "-q"];
    const bundle = heapLimited(["bundle", manifest, ...common]);
    expect(bundle.code, bundle.stderr).toBe(0);
    const iso = heapLimited(["build", manifest, "--builtin", "load", "--format", "iso", ...common]);
    expect(iso.code, iso.stderr).toBe(0);
    console.log(`200+ MiB initrd: bundle peak RSS ${bundle.rssMiB.toFixed(0)} MiB, build ${iso.rssMiB.toFixed(0)} MiB`);

    // The initrd the ISO boots, read by GNU cpio: every payload file, byte for byte.
    const x = join(dir, "x");
    mkdirSync(x);
    sh(
      `xorriso -osirrox on -indev ${q(join(dir, "out", "large-dev-1.0.0.iso"))} -extract /boot/core.gz ${q(join(x, "core.gz"))} 2>/dev/null`,
    );
    sh(`cd ${q(x)} && zcat core.gz | cpio -idm --quiet 'opt/payload/*'`);
    for (let i = 0; i < FILES; i += 37) {
      const name = `blob-${String(i).padStart(3, "0")}.bin`;
      expect(readFileSync(join(x, "opt/payload", name)).equals(readFileSync(join(dir, "payload", name))), name).toBe(
        true,
      );
    }
    expect(
      sh(`ls ${q(join(x, "opt/payload"))} | wc -l`)
        .toString()
        .trim(),
    ).toBe(String(FILES));
    const unpacked = Number(
      sh(`zcat ${q(join(x, "core.gz"))} | wc -c`)
        .toString()
        .trim(),
    );
    expect(unpacked).toBeGreaterThan(200 * MIB);
  });
});
