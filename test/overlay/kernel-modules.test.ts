// kernel_modules on the x86_64 fixture, with modules from its kernel's Debian package: the
// built initrd holds them where the manifest says, and its modules.dep, modules.alias and
// modules.softdep are the bytes kmod's depmod -b writes for the same tree (modules.symbols the
// same lines); load: boot becomes a modprobe before the services; two builds are the same
// ISO. A module for another kernel release, another architecture, one whose depends= the
// image lacks, and a file that is no module are refused at their lines (exit 2); a driver
// whose firmware the image lacks is a warning until files: supplies it. Hanlon's -a list
// (its real three-column layout) takes a module out of a local .tcz in Razor's flow. A module
// by URL is pinned by sha256 in the lock; other bytes at that URL are refused.
import { createHash } from "node:crypto";
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { mkbundleAsync, mkbundleIn } from "../helpers/cli.js";
import { EXT4_MODULES, FIXTURE_KERNEL, kernelModulesFromDeb } from "../helpers/kernel-modules.js";
import { startMirror } from "../helpers/mirror-server.js";
import { fixturesDir } from "../helpers/paths.js";
import { q, sh } from "../helpers/run.js";
import { tempDir } from "../helpers/tmp.js";

const { dir, write } = tempDir("mkbundle-kernel-modules-");
const env = { SOURCE_DATE_EPOCH: "1700000000" };
const app = join(dir, "app");
const sha = (f: string) => createHash("sha256").update(readFileSync(f)).digest("hex");
const EXT4 = EXT4_MODULES;
const manifest = (
  name: string,
  modules: string,
  more = "",
  base = "release: 10.x, arch: x86_64, iso: CorePure64-10.1.iso",
) =>
  write(
    `app/${name}.yaml`,
    `name: ${name}\nversion: 1.0.0\nbase: { ${base} }\nkernel_modules:\n${modules}${more}services:\n  - { name: svc, run: lsmod, log: /dev/ttyS0 }\n`,
  );
const build = (m: string, out: string) =>
  mkbundleIn(
    [
      "build",
      m,
      "--mirror",
      join(fixturesDir(), "tinycore"),
      "--work-dir",
      join(dir, "wd"),
      "--out",
      join(dir, out),
      "--format",
      "iso",
    ],
    { env },
  );

describe("kernel_modules", () => {
  it("places the modules and writes the dependency files depmod writes; load: boot is a modprobe before the services", async () => {
    const lines =
      kernelModulesFromDeb(app, EXT4) +
      kernelModulesFromDeb(app, ["kernel/lib/crc-itu-t.ko"]).replace(/, path: [^ ]+ }/, ", load: boot }");
    const m = manifest("drivers", lines);
    const first = await build(m, "out1");
    expect(first.code, first.stderr).toBe(0);
    const iso = first.stdout.trim();

    const root = join(dir, "initrd");
    mkdirSync(root);
    sh(`xorriso -osirrox on -indev ${q(iso)} -extract /boot/corepure64.gz ${q(join(dir, "core.gz"))} 2>/dev/null`);
    sh(`cd ${q(root)} && zcat ${q(join(dir, "core.gz"))} | cpio -idm --quiet 'lib/modules/*' opt/bootlocal.sh`);
    const ours = join(root, "lib/modules", FIXTURE_KERNEL);
    for (const p of EXT4)
      expect(readFileSync(join(ours, p)).equals(readFileSync(join(app, "kmods", p.split("/").pop()!)))).toBe(true);
    expect(readFileSync(join(ours, "kernel/extra/crc-itu-t.ko")).length).toBeGreaterThan(0);
    const order = readFileSync(join(ours, "modules.order"), "utf8");
    expect(order.startsWith("kernel/arch/x86/crypto/crct10dif-pclmul.ko\n")).toBe(true);
    expect(order.endsWith([...EXT4, "kernel/extra/crc-itu-t.ko"].map((p) => `${p}\n`).join(""))).toBe(true);

    // kmod's depmod on a copy of the same tree.
    const ref = join(dir, "ref");
    cpSync(join(root, "lib"), join(ref, "lib"), { recursive: true });
    sh(`depmod -b ${q(ref)} ${FIXTURE_KERNEL} 2>/dev/null`);
    const theirs = join(ref, "lib/modules", FIXTURE_KERNEL);
    for (const f of ["modules.dep", "modules.alias", "modules.softdep"])
      expect(readFileSync(join(ours, f), "utf8"), f).toBe(readFileSync(join(theirs, f), "utf8"));
    const sorted = (f: string) => readFileSync(f, "utf8").split("\n").sort();
    expect(sorted(join(ours, "modules.symbols"))).toEqual(sorted(join(theirs, "modules.symbols")));
    expect(readFileSync(join(ours, "modules.dep"), "utf8")).toContain(
      "kernel/fs/ext4/ext4.ko: kernel/lib/crc16.ko kernel/fs/mbcache.ko kernel/fs/jbd2/jbd2.ko\n",
    );
    expect(readFileSync(join(ours, "modules.alias"), "utf8")).toContain("alias fs-ext2 ext4\n");
    expect(readFileSync(join(root, "opt/bootlocal.sh"), "utf8")).toMatch(
      /modprobe crc_itu_t \|\| echo "mkbundle: kernel module crc_itu_t did not load" > \/dev\/console\n\/opt\/mkbundle\/services\/svc\.sh &\n\/opt\/mkbundle\/exec\/agent\.sh > \/var\/log\/mkbundle-exec\.log 2>&1 &\n$/, // a dev image: mkbundle exec's agent last
    );

    const again = await build(m, "out2");
    expect(again.code, again.stderr).toBe(0);
    expect(sha(again.stdout.trim())).toBe(sha(iso));
  });

  it("refuses another release, another architecture, a missing depends= and a file that is no module, at their lines", async () => {
    kernelModulesFromDeb(app, EXT4);
    const ext4 = readFileSync(join(app, "kmods/ext4.ko"));
    writeFileSync(
      join(app, "kmods/other.ko"),
      Buffer.from(ext4.toString("latin1").replace(`vermagic=${FIXTURE_KERNEL}`, "vermagic=6.1.0-99-amd64"), "latin1"),
    );
    writeFileSync(join(app, "kmods/notes.ko"), "not a module\n");
    const m = manifest(
      "wrong",
      "  - { source: kmods/ext4.ko, path: kernel/fs/ext4/ext4.ko }\n" +
        "  - { source: kmods/other.ko, path: kernel/fs/other/other.ko }\n" +
        "  - { source: kmods/notes.ko }\n",
    );
    const r = await build(m, "wrong");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `wrong.yaml:6:5: kernel_modules[1]: other.ko was built for kernel 6.1.0-99-amd64, the base's kernel is ${FIXTURE_KERNEL} (it would not load: take the module built for the base's kernel)`,
    );
    expect(r.stderr).toContain("wrong.yaml:7:5: kernel_modules[2]: notes.ko: not an ELF file (bad magic)");
    expect(r.stderr).toContain(
      "wrong.yaml:5:5: kernel_modules[0]: ext4.ko needs jbd2, mbcache, crc16 (its depends=), which the image does not have (add them to kernel_modules)",
    );
    const x86 = manifest("x86", "  - { source: kmods/crc16.ko }\n", "", "iso: Core-4.4.iso");
    const arch = await build(x86, "x86");
    expect(arch.code).toBe(2);
    expect(arch.stderr).toContain("x86.yaml:5:5: kernel_modules[0]: crc16.ko is for x86-64 (64-bit), the base is x86");
  });

  it("warns about firmware the image lacks, until files: brings it", async () => {
    const lines = kernelModulesFromDeb(app, ["kernel/drivers/net/ethernet/3com/typhoon.ko"]);
    const without = await build(manifest("typhoon", lines), "fw1");
    expect(without.code, without.stderr).toBe(0);
    expect(without.stderr).toContain(
      "warning: kernel_modules[0]: typhoon.ko asks for firmware 3com/typhoon.bin, which the image does not have",
    );
    const withFw = await build(
      manifest("typhoon", lines, "files:\n  - { path: /lib/firmware/3com/typhoon.bin, content: firmware }\n"),
      "fw2",
    );
    expect(withFw.code, withFw.stderr).toBe(0);
    expect(withFw.stderr).not.toContain("asks for firmware");
  });

  it("takes Hanlon's -a list in Razor's flow: a module out of a local .tcz, found by name, placed under kernel/drivers", async () => {
    // A vendor driver extension as Hanlon's were: the module gzip'd under usr/local/lib/modules.
    const project = join(dir, "hanlon");
    const inside = join(project, "src/usr/local/lib/modules", FIXTURE_KERNEL, "kernel/lib");
    mkdirSync(inside, { recursive: true });
    kernelModulesFromDeb(app, ["kernel/lib/crc-itu-t.ko"]);
    const ko = readFileSync(join(app, "kmods/crc-itu-t.ko"));
    writeFileSync(join(inside, "crc-itu-t.ko.gz"), gzipSync(ko));
    mkdirSync(join(project, "extra-driver-files"));
    sh(
      `mksquashfs ${q(join(project, "src"))} ${q(join(project, "extra-driver-files/itu-kernel-mods.tcz"))} -noappend -quiet -no-progress -all-root`,
    );
    // additional-build-files/addtnl-driver-mods.lst's layout: paths from the project's root.
    mkdirSync(join(project, "additional-build-files"));
    const list = (line: string) => writeFileSync(join(project, "additional-build-files/addtnl-driver-mods.lst"), line);
    list("extra-driver-files/itu-kernel-mods.tcz     crc-itu-t.ko       misc/itu/crc-itu-t.ko\n");
    for (const l of ["builtin", "mirror"]) writeFileSync(join(project, `additional-build-files/${l}.lst`), "");
    const razor = () =>
      mkbundleAsync(
        [
          "-b",
          "additional-build-files/builtin.lst",
          "-m",
          "additional-build-files/mirror.lst",
          "-a",
          "additional-build-files/addtnl-driver-mods.lst",
          "--release",
          "10.x",
          "--arch",
          "x86_64",
          "--mirror",
          join(fixturesDir(), "tinycore"),
          "--work-dir",
          join(dir, "wd"),
        ],
        { cwd: project, env },
      );
    const r = await razor();
    expect(r.code, r.stderr).toBe(0);
    const overlay = join(
      project,
      "build-files",
      readdirSync(join(project, "build-files")).find((f) => f.startsWith("overlay-"))!,
    );
    const dep = `lib/modules/${FIXTURE_KERNEL}`;
    // The .ko.gz in the extension, placed as the list names it: a .ko, the module's own bytes.
    expect(sh(`tar -xzOf ${q(overlay)} ${dep}/kernel/drivers/misc/itu/crc-itu-t.ko`).equals(ko)).toBe(true);
    expect(sh(`tar -xzOf ${q(overlay)} ${dep}/modules.dep`).toString()).toMatch(
      /\nkernel\/drivers\/misc\/itu\/crc-itu-t\.ko:\n$/,
    );

    list("extra-driver-files/itu-kernel-mods.tcz     e1000.ko       net/e1000.ko\n");
    const missing = await razor();
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(
      `kernel_modules[0]: extra-driver-files/itu-kernel-mods.tcz has no e1000.ko (its modules: usr/local/lib/modules/${FIXTURE_KERNEL}/kernel/lib/crc-itu-t.ko.gz)`,
    );
    list("extra-driver-files/itu-kernel-mods.tcz crc-itu-t.ko\n");
    const short = await razor();
    expect(short.code).toBe(2);
    expect(short.stderr).toContain(
      "additional-build-files/addtnl-driver-mods.lst:1:1: expected three fields, '<extension.tcz> <module.ko> <path under kernel/drivers/>', found 2",
    );
  });

  it("takes a module by URL pinned by sha256 from a real HTTP server; other bytes at that URL are refused", async () => {
    kernelModulesFromDeb(app, ["kernel/lib/crc-itu-t.ko"]);
    const ko = readFileSync(join(app, "kmods/crc-itu-t.ko"));
    const served = join(dir, "served");
    mkdirSync(served, { recursive: true });
    writeFileSync(join(served, "crc-itu-t.ko"), ko);
    const server = await startMirror(served);
    try {
      const pin = createHash("sha256").update(ko).digest("hex");
      const m = manifest("byurl", `  - { url: "${server.url}/crc-itu-t.ko", sha256: ${pin}, load: boot }\n`);
      const r = await build(m, "url1");
      expect(r.code, r.stderr).toBe(0);
      expect(readFileSync(m.replace(/\.yaml$/, ".lock"), "utf8")).toMatch(
        /kernelModules:\n {2}- url: http:\/\/127\.0\.0\.1:\d+\/crc-itu-t\.ko\n {4}sha256: [0-9a-f]{64}\n {4}size: \d+\n/,
      );
      const iso = r.stdout.trim();
      const listed = (await mkbundleIn(["ls", iso, "boot/corepure64.gz", `lib/modules/${FIXTURE_KERNEL}/kernel/extra`]))
        .stdout;
      expect(listed).toContain(`${ko.length} `);
      server.faults.set("/crc-itu-t.ko", "wrong-bytes");
      // No lock and an empty store (it would answer the pinned sha256 without asking the server).
      rmSync(join(dir, "wd"), { recursive: true, force: true });
      rmSync(m.replace(/\.yaml$/, ".lock"));
      const tampered = await build(m, "url2");
      expect(tampered.code).not.toBe(0);
      expect(tampered.stderr).toMatch(
        /byurl\.yaml:5:\d+: sha256 mismatch for http:\/\/127\.0\.0\.1:\d+\/crc-itu-t\.ko/,
      );
    } finally {
      await server.close();
    }
  });
});
