// The shared-library check, as a user meets it: parted taken out of parted.tcz alone fails the
// build at its manifest line, naming the libraries it lacks and the extensions that provide
// them (from the mirror's provides.db.gz); with parted's extension builtin it builds, and the
// guest runs `parted --version`. On the 4.x series without an index the error still names the
// soname and says there is no index; an x86_64 program in an x86 image is refused.
import { cpSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { mkbundleAsync } from "../helpers/cli.js";
import { fixturesDir } from "../helpers/paths.js";
import { q, sh } from "../helpers/run.js";
import { tempDir } from "../helpers/tmp.js";

const { dir, write } = tempDir("mkbundle-libs-");
const mirror = () => join(fixturesDir(), "tinycore");

const PARTED = (extra: string) => `name: parted-demo
version: 1.0.0
flavour: dev
base:
  release: 10.x
  arch: x86_64
  iso: CorePure64-10.1.iso
files:
  - path: /usr/local/sbin/parted
    mode: "0755"
    extract: { extension: parted, path: usr/local/sbin/parted }
${extra}boot:
  append: [console=ttyS0]
  timeout: 0
`;

describe("shared libraries checked at build time", () => {
  it("parted alone: exit 2 at its line naming libreadline.so.7 and readline.tcz; with its extension it builds and runs", async () => {
    const m = write("parted/parted.yaml", PARTED(""));
    const wd = join(dir, "wd");
    const bad = await mkbundleAsync(["build", m, "--mirror", mirror(), "--work-dir", wd, "--out", join(dir, "out1")]);
    expect(bad.code, bad.stderr).toBe(2);
    expect(bad.stderr).toContain(
      `${m}:9:5: files[0]: /usr/local/sbin/parted needs libreadline.so.7, which nothing in the image provides (readline.tcz provides usr/local/lib/libreadline.so.7 (add it to extensions.builtin))`,
    );
    expect(bad.stderr).not.toMatch(/\n\s+at /);
    const skipped = await mkbundleAsync([
      "bundle",
      m,
      "--no-lib-check",
      "--mirror",
      mirror(),
      "--work-dir",
      wd,
      "--out",
      join(dir, "out0"),
    ]);
    expect(skipped.code, skipped.stderr).toBe(0);
    expect(skipped.stderr).toContain("--no-lib-check: the shared libraries");
    const keyed = write("parted/keyed.yaml", PARTED("checks:\n  libraries: false\n"));
    const byKey = await mkbundleAsync([
      "bundle",
      keyed,
      "--mirror",
      mirror(),
      "--work-dir",
      wd,
      "--out",
      join(dir, "out0k"),
    ]);
    expect(byKey.code, byKey.stderr).toBe(0);
    expect(byKey.stderr).toContain("warning: checks.libraries: false: the shared libraries");

    writeFileSync(
      m,
      PARTED(`extensions:
  builtin: [parted]
services:
  - name: show
    run: |
      echo "parted-version: $(/usr/local/sbin/parted --version | head -n 1)"
    log: /dev/ttyS0
`),
    );
    const good = await mkbundleAsync(["build", m, "--mirror", mirror(), "--work-dir", wd, "--out", join(dir, "out2")]);
    expect(good.code, good.stderr).toBe(0);
    const t = await mkbundleAsync([
      "test",
      good.stdout.trim(),
      "--expect",
      "parted-version: parted \\(GNU parted\\) [0-9]",
      "--timeout",
      "200",
    ]);
    expect(t.code, t.stderr.slice(-3000)).toBe(0);
  }, 400_000);

  it("4.x without an index: the soname and 'no index'; an x86_64 program in the x86 image: an architecture error", async () => {
    const noIndex = join(dir, "mirror-4x");
    cpSync(join(mirror(), "4.x"), join(noIndex, "4.x"), { recursive: true, dereference: true });
    rmSync(join(noIndex, "4.x/x86/tcz/provides.db.gz"), { force: true });
    const base = "name: old\nversion: 1.0.0\nflavour: dev\nbase: { release: 4.x, arch: x86, iso: Core-4.4.iso }\n";
    const m = write(
      "old/old.yaml",
      `${base}files:\n  - path: /usr/local/bin/bash\n    mode: "0755"\n    extract: { extension: bash, path: usr/local/bin/bash }\n`,
    );
    const r = await mkbundleAsync([
      "bundle",
      m,
      "--mirror",
      noIndex,
      "--work-dir",
      join(dir, "wd4"),
      "--out",
      join(dir, "out4"),
    ]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(
      /old\.yaml:\d+:\d+: files\[0\]: \/usr\/local\/bin\/bash needs libncurses\S*, which nothing in the image provides \(the mirror has no tcz\/provides\.db\.gz/,
    );

    const parted = join(dir, "arch", "parted");
    write("arch/parted", "");
    writeFileSync(
      parted,
      sh(`unsquashfs -cat ${q(join(mirror(), "10.x/x86_64/tcz/parted.tcz"))} usr/local/sbin/parted`),
    );
    const wrong = write(
      "arch/arch.yaml",
      `${base}files:\n  - path: /usr/local/sbin/parted\n    mode: "0755"\n    source: parted\n`,
    );
    const a = await mkbundleAsync([
      "bundle",
      wrong,
      "--mirror",
      mirror(),
      "--work-dir",
      join(dir, "wd4"),
      "--out",
      join(dir, "out5"),
    ]);
    expect(a.code, a.stderr).toBe(2);
    expect(a.stderr).toContain(
      "files[0]: /usr/local/sbin/parted is a 64-bit x86-64 program; this image is x86 (32-bit i386)",
    );
  }, 120_000);

  it("mkbundle provides libreadline.so lists readline.tcz, as zcat of the index searched by hand does", async () => {
    const m = write("prov/prov.yaml", "name: prov\nbase: { release: 10.x, arch: x86_64 }\n");
    const r = await mkbundleAsync([
      "provides",
      "libreadline.so",
      m,
      "--mirror",
      mirror(),
      "--work-dir",
      join(dir, "wd-prov"),
    ]);
    expect(r.code, r.stderr).toBe(0);
    const byHand = sh(
      `zcat ${q(join(mirror(), "10.x/x86_64/tcz/provides.db.gz"))} | awk '/\\.tcz$/{e=$0} /libreadline\\.so/{print e" /"$0}'`,
    )
      .toString()
      .trim()
      .split("\n");
    const ext = byHand[0]!.split(" ")[0]!;
    expect(r.stdout.trim()).toBe(`${ext}: ${byHand.map((l) => l.split(" ")[1]).join(" ")}`);
    expect(ext).toBe("readline.tcz");
    const json = await mkbundleAsync([
      "provides",
      "nothing-ships-this",
      m,
      "--mirror",
      mirror(),
      "--work-dir",
      join(dir, "wd-prov"),
      "--json",
    ]);
    expect(JSON.parse(json.stdout)).toEqual([]);
  });
});
