// The shared-library check, as a user meets it: parted taken out of parted.tcz alone fails the
// build at its manifest line, naming the libraries it lacks and the extensions that provide
// them (from the mirror's provides.db.gz); with parted's extension builtin it builds, and the
// guest runs `parted --version`. On the 4.x series without an index the error still names the
// soname and says there is no index; an x86_64 program in an x86 image is refused.
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { mkbundleAsync } from "../helpers/cli.js";
import { fixturesDir } from "../helpers/paths.js";
import { q, sh } from "../helpers/run.js";
import { tempDir } from "../helpers/tmp.js";

const { dir, write } = tempDir("mkbundle-libs-");
const mirror = () => join(fixturesDir(), "tinycore");
/** mkbundle ARGS... against a mirror, with a work directory. */
const onMirror = (from: string, wd: string, ...args: string[]) =>
  mkbundleAsync([...args, "--mirror", from, "--work-dir", wd]);

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
    const bad = await onMirror(mirror(), wd, "build", m, "--out", join(dir, "out1"));
    expect(bad.code, bad.stderr).toBe(2);
    expect(bad.stderr).toContain(
      `${m}:9:5: files[0]: /usr/local/sbin/parted needs libreadline.so.7, which nothing in the image provides (readline.tcz provides usr/local/lib/libreadline.so.7, bringing ncursesw.tcz (add it to extensions.builtin))`,
    );
    // Each provider with what it would add to the image, from the mirror's .dep files.
    expect(bad.stderr).toContain(
      "needs libparted.so.2, which nothing in the image provides (parted.tcz provides usr/local/lib/libparted.so.2, bringing ncursesw.tcz, readline.tcz, udev-lib.tcz, liblvm2.tcz",
    );
    expect(bad.stderr).not.toMatch(/\n\s+at /);
    // validate --strict, with the lock the failed build wrote: the same check, nothing built.
    const strict = await onMirror(mirror(), wd, "validate", "--strict", m);
    expect(strict.code, strict.stderr).toBe(2);
    expect(strict.stderr).toContain(`${m}:9:5: files[0]: /usr/local/sbin/parted needs libreadline.so.7, which nothing`);
    expect(await mkbundleAsync(["validate", m])).toMatchObject({ code: 0 });
    const skipped = await onMirror(mirror(), wd, "bundle", m, "--no-lib-check", "--out", join(dir, "out0"));
    expect(skipped.code, skipped.stderr).toBe(0);
    expect(skipped.stderr).toContain("--no-lib-check: the shared libraries");
    const keyed = write("parted/keyed.yaml", PARTED("checks:\n  libraries: false\n"));
    const byKey = await onMirror(mirror(), wd, "bundle", keyed, "--out", join(dir, "out0k"));
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
    const good = await onMirror(mirror(), wd, "build", m, "--out", join(dir, "out2"));
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

    // The bundle records what parted needs and from where; plan shows what an edit takes away.
    const bundle = join(dir, "out2", "parted-demo-bundle-dev.tar.gz");
    const json = JSON.parse((await mkbundleAsync(["cat", bundle, "bundle.json"])).stdout) as { libraries: string[] };
    expect(json.libraries).toEqual(
      expect.arrayContaining(["libc.so.6 base", "libparted.so.2 parted.tcz", "libreadline.so.7 readline.tcz"]),
    );
    writeFileSync(m, readFileSync(m, "utf8").replace(/files:\n( {2}.*\n)+/, ""));
    const plan = await onMirror(mirror(), wd, "plan", m, "--out", join(dir, "out2"));
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toMatch(
      /libraries the programs need: \d+ changes\n(.*\n)* {2}- libreadline\.so\.7 \(from readline\.tcz\)/,
    );
  }, 400_000);

  it("dep: auto works a local extension's .dep out from provides.db; a mirror extension whose .dep lacks a library is a warning", async () => {
    const svc = join(dir, "auto", "svc", "usr/local/sbin");
    mkdirSync(svc, { recursive: true });
    writeFileSync(
      join(svc, "parted"),
      sh(`unsquashfs -cat ${q(join(mirror(), "10.x/x86_64/tcz/parted.tcz"))} usr/local/sbin/parted`),
      { mode: 0o755 },
    );
    // mkbundle tcz --dep auto: the same analysis for a .tcz of your own (its arch from its programs).
    const svcDir = join(dir, "auto", "svc");
    const tczOut = join(dir, "tcz-auto");
    const made = await mkbundleAsync([
      "tcz",
      svcDir,
      "--name",
      "my-parted",
      "--dep",
      "auto",
      "--release",
      "10.x",
      "--mirror",
      mirror(),
      "--work-dir",
      join(dir, "wd-auto"),
      "--out",
      tczOut,
    ]);
    expect(made.code, made.stderr).toBe(0);
    expect(readFileSync(join(tczOut, "my-parted.tcz.dep"), "utf8")).toBe("parted.tcz\n");
    expect(made.stderr).toContain("--dep auto: taken to be in the base, no extension provides them: libc.so.6");
    const noRelease = await mkbundleAsync(["tcz", svcDir, "--name", "x", "--dep", "auto", "--out", tczOut]);
    expect(noRelease.code).toBe(2);
    expect(noRelease.stderr.trim()).toBe(
      "mkbundle: --dep auto needs --release, the Tiny Core series the extension is for (like 10.x) (its mirror's tcz/provides.db.gz says which extension provides each library)",
    );

    const m = write(
      "auto/auto.yaml",
      `name: auto-demo
version: 1.0.0
flavour: dev
base: { release: 10.x, arch: x86_64, iso: CorePure64-10.1.iso }
extensions:
  local:
    - { name: my-parted, from: svc, dep: auto }
`,
    );
    const wd = join(dir, "wd-auto");
    const r = await onMirror(mirror(), wd, "bundle", m, "--out", join(dir, "out-auto"));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(
      "extensions.local: my-parted: dep auto: parted (for libparted.so.2, libreadline.so.7 through readline, libncursesw.so.6 through ncursesw)",
    );
    // The lock pins what parted brings, and the library check of the whole image passed.
    const lock = parse(readFileSync(m.replace(/\.yaml$/, ".lock"), "utf8")) as { extensions: { name: string }[] };
    expect(lock.extensions.map((e) => e.name).sort()).toEqual(
      ["liblvm2", "my-parted", "ncursesw", "parted", "readline", "udev-lib"].sort(),
    );

    // A mirror whose readline.tcz.dep forgot ncursesw, which libreadline.so.7 needs: a warning, not an error.
    const broken = join(dir, "mirror-broken");
    cpSync(mirror(), broken, { recursive: true, dereference: true });
    rmSync(join(broken, "10.x/x86_64/tcz/readline.tcz.dep"));
    const w = write(
      "auto/warn.yaml",
      "name: warn-demo\nversion: 1.0.0\nflavour: dev\nbase: { release: 10.x, arch: x86_64, iso: CorePure64-10.1.iso }\nextensions:\n  builtin: [readline]\n",
    );
    const warned = await onMirror(broken, wd, "bundle", w, "--out", join(dir, "out-warn"));
    expect(warned.code, warned.stderr).toBe(0);
    // validate --strict: the good manifest passes on its lock; the warning fails it; a stale lock is said.
    const ok = await onMirror(mirror(), wd, "validate", "--strict", m);
    expect(ok.code, ok.stderr).toBe(0);
    const strict = await onMirror(broken, wd, "validate", "--strict", w);
    expect(strict.code).toBe(2);
    expect(strict.stderr).toMatch(
      /warn\.yaml:6:13: extensions\.builtin\[0\]: readline\.tcz \(from the mirror\): .* needs libncursesw\.so\.6/,
    );
    writeFileSync(w, readFileSync(w, "utf8").replace("[readline]", "[readline, ncursesw]"));
    const stale = await onMirror(broken, wd, "validate", "--strict", w);
    expect(stale.code).toBe(2);
    expect(stale.stderr).toContain(
      "warn.lock: the lock is stale (the manifest changed since): the image's checks did not run",
    );
    // Once per library, however many of readline's files need it.
    expect(warned.stderr).toMatch(
      /warn\.yaml:6:13: warning: extensions\.builtin\[0\]: readline\.tcz \(from the mirror\): \/usr\/local\/lib\/lib\S+ needs libncursesw\.so\.6, which nothing in the image provides \(ncursesw\.tcz provides usr\/local\/lib\/libncursesw\.so\.6 \(add it to extensions\.builtin\)\)/,
    );
    expect(warned.stderr.split("needs libncursesw.so.6").length).toBe(2);
  }, 120_000);

  it("4.x without an index: the soname and 'no index'; an x86_64 program in the x86 image: an architecture error", async () => {
    const noIndex = join(dir, "mirror-4x");
    cpSync(join(mirror(), "4.x"), join(noIndex, "4.x"), { recursive: true, dereference: true });
    rmSync(join(noIndex, "4.x/x86/tcz/provides.db.gz"), { force: true });
    const base = "name: old\nversion: 1.0.0\nflavour: dev\nbase: { release: 4.x, arch: x86, iso: Core-4.4.iso }\n";
    const m = write(
      "old/old.yaml",
      `${base}files:\n  - path: /usr/local/bin/bash\n    mode: "0755"\n    extract: { extension: bash, path: usr/local/bin/bash }\n`,
    );
    const r = await onMirror(noIndex, join(dir, "wd4"), "bundle", m, "--out", join(dir, "out4"));
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
    const a = await onMirror(mirror(), join(dir, "wd4"), "bundle", wrong, "--out", join(dir, "out5"));
    expect(a.code, a.stderr).toBe(2);
    expect(a.stderr).toContain(
      "files[0]: /usr/local/sbin/parted is a 64-bit x86-64 program; this image is x86 (32-bit i386)",
    );
  }, 120_000);

  it("mkbundle provides libreadline.so lists readline.tcz, as zcat of the index searched by hand does", async () => {
    const m = write("prov/prov.yaml", "name: prov\nbase: { release: 10.x, arch: x86_64 }\n");
    const r = await onMirror(mirror(), join(dir, "wd-prov"), "provides", "libreadline.so", m);
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
    const json = await onMirror(mirror(), join(dir, "wd-prov"), "provides", "nothing-ships-this", m, "--json");
    expect(JSON.parse(json.stdout)).toEqual([]);
  });
});
