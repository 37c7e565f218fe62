// Bases other than a Core ISO, on the 10.x x86_64 fixture: one assembled from distribution
// files (vmlinuz64 + corepure64.gz, ISOLINUX from Debian as pinned local files), booted from
// its ISO and its PXE files; one without ISOLINUX (PXE files only); and Razor's two steps
// with --arch x86_64.
import { copyFileSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { gunzipSync, gzipSync } from "node:zlib";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { mkbundleAsync } from "../helpers/cli.js";
import { ISOLINUX, pure64Workspace, sha256 } from "../helpers/pure64.js";
import { bootUntil, pxeBoot } from "../helpers/qemu.js";

const { dir, write, wd, mirror, manifest, build, serviceTest } = pure64Workspace("mkbundle-parts-", 18280);

/** A base.isolinux line for a Debian ISOLINUX file, pinned by its sha256 here. */
const isolinux = (key: keyof typeof ISOLINUX) =>
  `    ${key}: { url: ${ISOLINUX[key]}, sha256: ${sha256(ISOLINUX[key])} }\n`;

describe("a base assembled from distribution files", () => {
  const partsBase = (withIsolinux: boolean) =>
    "base:\n  release: 10.x\n  arch: x86_64\n  kernel: vmlinuz64\n  initrds: [corepure64.gz]\n" +
    (withIsolinux ? `  isolinux:\n${isolinux("bin")}${isolinux("ldlinux")}${isolinux("mbr")}` : "");

  it("builds an ISO that boots from CD and PXE files that boot as boot.ipxe says", async () => {
    const m = manifest("parts-web", partsBase(true));
    const out = join(dir, "parts");
    const iso = await build(m, out);
    const again = await build(m, join(dir, "parts-again"));
    expect(sha256(again)).toBe(sha256(iso));
    const lock = readFileSync(m.replace(/\.yaml$/, ".lock"), "utf8");
    expect(lock).toContain("path: boot/vmlinuz64");
    expect(lock).toContain(`sha256: ${sha256(ISOLINUX.bin)}`);
    await serviceTest(iso);

    const r = await bootUntil(
      pxeBoot(join(out, "pxe", "parts-web-prod-1.0.0")),
      /web: mkfs\.fat runs from \/tmp\/tcloop\/dosfstools\//,
      240,
    );
    expect(r.matched, r.console.slice(-2000)).toBe(true);
  }, 600_000);

  it("without isolinux: PXE files only, and build says how to get an ISO", async () => {
    const m = manifest("parts-pxe", partsBase(false));
    const out = join(dir, "parts-pxe");
    const args = ["--mirror", mirror(), "--work-dir", wd, "--out", out];
    const built = await mkbundleAsync(["build", m, ...args]);
    expect(built.code).toBe(2);
    expect(built.stderr).toMatch(/has no El Torito boot image, so no ISO can boot/);
    expect(built.stderr).toMatch(/add base\.isolinux/);
    const bundle = await mkbundleAsync(["bundle", m, ...args]);
    expect(bundle.code, bundle.stderr).toBe(0);
    const pxe = await mkbundleAsync(["rebuild-iso", "--format", "pxe", ...args]);
    expect(pxe.code, pxe.stderr).toBe(0);
    expect(existsSync(join(out, "pxe", "parts-pxe-prod-1.0.0", "vmlinuz64"))).toBe(true);
    expect(existsSync(join(out, "pxe", "parts-pxe-prod-1.0.0", "corepure64.gz"))).toBe(true);
  }, 120_000);
});

describe("Razor's two steps with --arch x86_64", () => {
  it("mkbundle -b -m --arch x86_64 --release 10.x, then rebuild-iso, boots", async () => {
    const lists = join(dir, "razor");
    const b = write("razor/builtin.lst", "dosfstools.tcz\n");
    const mList = write("razor/mirror.lst", "parted.tcz\n");
    const args = ["--work-dir", join(lists, "wd"), "--out", join(lists, "out")];
    const env = { MK_BUNDLE_TCL_MIRROR_URI: mirror() };
    const step1 = await mkbundleAsync(["-b", b, "-m", mList, "--arch", "x86_64", "--release", "10.x", ...args], {
      env,
    });
    expect(step1.code, step1.stderr).toBe(0);
    const step2 = await mkbundleAsync(["rebuild-iso", "0.1.0", ...args], { env });
    expect(step2.code, step2.stderr).toBe(0);
    const iso = step2.stdout.trim().split("\n")[0]!;
    expect(iso).toMatch(/rz_mk_dev-image\.0\.1\.0\.iso$/);
    const mirrored = await mkbundleAsync(["ls", iso, "boot/corepure64.gz", "tmp/tinycorelinux/10.x/x86_64/tcz"]);
    expect(mirrored.stdout).toContain("parted.tcz");
    // Razor's image has no service of its own: the console shows the boot to its end.
    const r = await mkbundleAsync([
      "test",
      iso,
      "--append",
      "console=ttyS0",
      "--expect",
      "Setting hostname to box",
      "--timeout",
      "240",
    ]);
    expect(r.code, r.stderr.slice(-4000)).toBe(0);
  }, 420_000);
});

/** Where the first newc archive in `b` ends (after its TRAILER!!! and the zero padding): walked header by header. */
function afterFirstArchive(b: Buffer): number {
  const align4 = (n: number) => (n + 3) & ~3;
  let at = 0;
  for (;;) {
    const field = (i: number) => parseInt(b.toString("latin1", at + 6 + i * 8, at + 14 + i * 8), 16);
    const [size, nameSize] = [field(6), field(11)];
    const name = b.toString("latin1", at + 110, at + 110 + nameSize - 1);
    at = align4(align4(at + 110 + nameSize) + size);
    if (name === "TRAILER!!!") break;
  }
  while (b[at] === 0) at++;
  return at;
}

describe("a split base: rootfs64.gz + modules64.gz, as Tiny Core's netboot files come", () => {
  /** A mirror whose distribution_files hold the fixture's corepure64.gz split in two: the root filesystem, and the modules. */
  function splitMirror(): string {
    const root = join(dir, "split-mirror");
    const arch = join(root, "10.x", "x86_64");
    const dist = join(arch, "release", "distribution_files");
    mkdirSync(dist, { recursive: true });
    const fixture = join(mirror(), "10.x", "x86_64");
    symlinkSync(join(fixture, "tcz"), join(arch, "tcz"));
    copyFileSync(join(fixture, "release", "distribution_files", "vmlinuz64"), join(dist, "vmlinuz64"));
    const all = gunzipSync(readFileSync(join(fixture, "release", "distribution_files", "corepure64.gz")));
    const next = afterFirstArchive(all);
    writeFileSync(join(dist, "rootfs64.gz"), gzipSync(all.subarray(0, next), { level: 9 }));
    writeFileSync(join(dist, "modules64.gz"), gzipSync(all.subarray(next), { level: 9 }));
    return root;
  }

  it("full remaster (booted directly) and --append-initrd (booted by isolinux): modules found in the second initrd", async () => {
    const split = splitMirror();
    const m = manifest(
      "split-web",
      "base:\n  release: 10.x\n  arch: x86_64\n  kernel: vmlinuz64\n  initrds: [rootfs64.gz, modules64.gz]\n" +
        `  isolinux:\n${isolinux("bin")}${isolinux("ldlinux")}`,
    );
    const built = async (out: string, extra: string[]) => {
      const r = await mkbundleAsync(["build", m, ...extra, "--mirror", split, "--work-dir", wd, "--out", out, "-v"]);
      expect(r.code, r.stderr).toBe(0);
      // --builtin auto: loop and squashfs were found in modules64.gz, so Tiny Core loads the builtins.
      expect(r.stderr).not.toMatch(/unpacked into the initrd/);
      return r.stdout.trim();
    };
    const full = await built(join(dir, "split-full"), []);
    const fullCfg = (await mkbundleAsync(["cat", full, "boot/isolinux/isolinux.cfg"])).stdout;
    expect(fullCfg).toMatch(/^\s*initrd \/boot\/rootfs64\.gz$/m);
    const merged = (await mkbundleAsync(["ls", full, "boot/rootfs64.gz", "lib/modules"])).stdout;
    expect(merged).toMatch(/kernel\/fs\/squashfs\/squashfs\.ko/);
    await serviceTest(full, ["--kernel"]);

    const append = await built(join(dir, "split-append"), ["--append-initrd"]);
    const appendCfg = (await mkbundleAsync(["cat", append, "boot/isolinux/isolinux.cfg"])).stdout;
    expect(appendCfg).toMatch(/^\s*initrd \/boot\/rootfs64\.gz,\/boot\/modules64\.gz,\/boot\/split-web\.gz$/m);
    await serviceTest(append);
  }, 600_000);
});
