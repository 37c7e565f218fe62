// rebuild-iso from bundles, checked with GNU cpio, gzip, xorriso and isoinfo (no VM here;
// test/e2e boots the results).
import { createHash } from "node:crypto";
import { cpSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { mkbundleIn } from "../helpers/cli.js";
import { fixturesDir, repoRoot } from "../helpers/paths.js";
import { q, sh } from "../helpers/run.js";
import { tempDir } from "../helpers/tmp.js";

const { dir, write } = tempDir("mkbundle-rebuild-");
const wd = join(dir, "wd");
const fixture = () => join(fixturesDir(), "tinycore");
const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const env = { SOURCE_DATE_EPOCH: "1700000000" };
let extracted = 0;
/** A file out of an ISO, extracted by osirrox (an independent reader). */
function osirrox(iso: string, path: string): Buffer {
  const target = join(dir, `osirrox-${extracted++}`);
  sh(`osirrox -indev ${q(iso)} -extract ${q(path)} ${q(target)} 2>/dev/null`);
  return readFileSync(target);
}

describe("Razor's two steps", () => {
  const out = join(dir, "razor");
  const iso = join(out, "rz_mk_prod-image.0.9.0.1.iso");

  beforeAll(async () => {
    const b = await mkbundleIn(
      [
        "-b",
        join(repoRoot, "extensions.lst"),
        "-m",
        join(repoRoot, "mirror.lst"),
        "-p",
        "--mirror",
        fixture(),
        "--work-dir",
        wd,
        "--out",
        out,
      ],
      { env },
    );
    expect(b.code, b.stderr).toBe(0);
    const r = await mkbundleIn(["rebuild-iso", "0.9.0.1", "--out", out], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(iso);
  });

  it("writes rz_mk_prod-image.0.9.0.1.iso with mk-version.yaml and iso-metadata.yaml", async () => {
    expect((await mkbundleIn(["cat", iso, "boot/core.gz", "tmp/mk-version.yaml"])).stdout).toBe(
      "mk_version: 0.9.0.1\n",
    );
    const meta = (await mkbundleIn(["cat", iso, "iso-metadata.yaml"])).stdout;
    expect(meta).toContain("iso_version: 0.9.0.1");
    expect(meta).toContain(
      `sha256: ${sha256(readFileSync(join(fixture(), "4.x/x86/release/distribution_files/vmlinuz")))}`,
    );
    expect(meta).toContain("build_time: 2023-11-14T22:13:20.000Z");
  });

  it("agrees with xorriso and isoinfo, and the initrd with GNU cpio and gzip", async () => {
    const ours = JSON.parse((await mkbundleIn(["ls", "--json", iso])).stdout) as {
      path: string;
      size: number;
      type: string;
    }[];
    const xorriso = sh(`xorriso -indev ${q(iso)} -find / 2>/dev/null`)
      .toString()
      .trim()
      .split("\n")
      .map((l) => l.replace(/^'\/?|'$/g, "") || ".");
    expect(ours.map((e) => e.path).sort()).toEqual(xorriso.sort());
    const d = sh(`isoinfo -d -i ${q(iso)}`).toString();
    expect(d).toContain("Volume id: Core");
    expect(d).toMatch(/Bootid 88 \(bootable\)[\s\S]*Nsect 4/);
    const core = osirrox(iso, "/boot/core.gz");
    sh(`gzip -t`, { input: core });
    const listing = sh(`zcat | cpio -t --quiet`, { input: core }).toString();
    expect(listing).toContain("usr/local/bin/bash"); // builtin, unpacked: the fixture kernel has no loop or squashfs
    expect(listing).toContain("tmp/tinycorelinux/4.x/x86/tcz/procps.tcz");
    expect(listing).toContain("etc/init.d/tc-config"); // the base is all there
  });

  it("is reproducible, and SHA256SUMS verifies", async () => {
    const first = sha256(readFileSync(iso));
    rmSync(iso);
    expect((await mkbundleIn(["rebuild-iso", "0.9.0.1", "--out", out], { env })).code).toBe(0);
    expect(sha256(readFileSync(iso))).toBe(first);
    expect(sh(`cd ${q(out)} && sha256sum -c SHA256SUMS`).toString()).toMatch(/rz_mk_prod-image\.0\.9\.0\.1\.iso: OK/);
    expect(
      sh(`ls ${q(join(out, "pxe/razor-microkernel-prod-0.9.0.1"))}`)
        .toString()
        .trim()
        .split("\n"),
    ).toEqual(["boot.ipxe", "core.gz", "vmlinuz"]);
    expect(readFileSync(join(out, "pxe/razor-microkernel-prod-0.9.0.1/boot.ipxe"), "utf8")).toBe(
      "#!ipxe\nkernel vmlinuz loglevel=3 nozswap initrd=core.gz\ninitrd core.gz\nboot\n",
    );
  });
});

describe("--append-initrd, --builtin and hybrid images", () => {
  const manifest = (where = "app") =>
    write(
      `${where}/app.yaml`,
      "name: app\nversion: 2.0.0\nbase:\n  iso: Core-4.4.iso\nextensions:\n  builtin: [bash]\nservices:\n  - name: hi\n    run: echo hi\n    log: /dev/ttyS0\nboot:\n  append: [console=ttyS0]\n  timeout: 0\n",
    );

  it("keeps the base initrd byte for byte and adds the overlay as a second archive", async () => {
    const out = join(dir, "append");
    const r = await mkbundleIn(
      ["build", manifest(), "--append-initrd", "--mirror", fixture(), "--work-dir", wd, "--out", out],
      { env },
    );
    expect(r.code, r.stderr).toBe(0);
    const iso = join(out, "app-dev-2.0.0.iso");
    const core = osirrox(iso, "/boot/core.gz");
    expect(core.equals(readFileSync(join(fixture(), "4.x/x86/release/distribution_files/core.gz")))).toBe(true);
    const extra = osirrox(iso, "/boot/app.gz");
    const names = sh("zcat | cpio -t --quiet", { input: extra }).toString().trim().split("\n");
    expect(names).toContain("tmp/mk-version.yaml");
    expect(names).toContain("opt/mkbundle/services/hi.sh");
    for (const baseDir of ["tmp", "opt", "etc", "usr", "usr/local", "usr/local/bin"])
      expect(names, baseDir).not.toContain(baseDir);
    const cfg = (await mkbundleIn(["cat", iso, "boot/isolinux/isolinux.cfg"])).stdout;
    expect(cfg).toContain("\tinitrd /boot/core.gz,/boot/app.gz\n");
    expect(cfg).toContain("append loglevel=3 nozswap console=ttyS0");
    expect(cfg).toMatch(/prompt 0\ntimeout 1/);
    // An unchanged build is skipped.
    const again = await mkbundleIn(
      ["build", manifest(), "--append-initrd", "--mirror", fixture(), "--work-dir", wd, "--out", out],
      { env },
    );
    expect(again.stderr).toContain("unchanged: same bundle, version and options");
  });

  it("unpacks builtin extensions for a kernel without modules, or keeps /tmp/builtin when told to load", async () => {
    const out = join(dir, "modes");
    expect(
      (await mkbundleIn(["bundle", manifest(), "--mirror", fixture(), "--work-dir", wd, "--out", out], { env })).code,
    ).toBe(0);
    const auto = await mkbundleIn(["rebuild-iso", "--out", out], { env });
    expect(auto.stderr).toContain("the base initrd has no loop or squashfs driver for 3.0.21-tinycore");
    const iso = join(out, "app-dev-2.0.0.iso");
    const listing = (await mkbundleIn(["ls", iso, "boot/core.gz"])).stdout;
    expect(listing).toMatch(/ usr\/local\/bin\/bash$/m);
    expect(listing).toMatch(/ usr\/local\/tce\.installed\/ncurses$/m);
    expect(listing).not.toContain("tmp/builtin");
    const bootlocal = (await mkbundleIn(["cat", iso, "boot/core.gz", "opt/bootlocal.sh"])).stdout.split("\n");
    expect(bootlocal.slice(0, 2)).toEqual(["#!/bin/sh", "/opt/mkbundle/builtin-setup.sh"]);
    expect(bootlocal).toContain("/opt/mkbundle/services/hi.sh &");
    expect((await mkbundleIn(["rebuild-iso", "--builtin", "load", "--out", out], { env })).code).toBe(0);
    expect((await mkbundleIn(["ls", iso, "boot/core.gz", "tmp/builtin"])).stdout).toContain("tmp/builtin/onboot.lst");
  });

  it("keeps the base's isohybrid MBR", async () => {
    const mirror = join(dir, "hybrid-mirror");
    cpSync(fixture(), mirror, { recursive: true, dereference: true });
    const release = join(mirror, "4.x/x86/release");
    const tree = join(dir, "hybrid-tree");
    sh(
      `osirrox -indev ${q(join(release, "Core-4.4.iso"))} -extract / ${q(tree)} 2>/dev/null && chmod -R u+w ${q(tree)} && rm -f ${q(join(release, "Core-4.4.iso"))}`,
    );
    sh(
      `xorriso -as mkisofs -l -J -R -V Core -no-emul-boot -boot-load-size 4 -boot-info-table -b boot/isolinux/isolinux.bin -c boot/isolinux/boot.cat -isohybrid-mbr /usr/lib/ISOLINUX/isohdpfx.bin -o ${q(join(release, "Core-4.4.iso"))} ${q(tree)} 2>/dev/null`,
    );
    const out = join(dir, "hybrid-out");
    const r = await mkbundleIn(
      ["build", manifest("hybrid"), "--mirror", mirror, "--work-dir", join(dir, "wd-hybrid"), "--out", out],
      { env },
    );
    expect(r.code, r.stderr).toBe(0);
    const iso = join(out, "app-dev-2.0.0.iso");
    expect(readFileSync(iso).length % (1024 * 1024)).toBe(0);
    expect(sh(`xorriso -indev ${q(iso)} -report_system_area plain 2>/dev/null`).toString()).toContain("MBR isohybrid");
  });
});

describe("broken bundles", () => {
  it("a truncated or foreign bundle fails with one line, exit 1", async () => {
    const bad = write("bad/broken-bundle-dev.tar.gz", "");
    sh(`head -c 100000 ${q(join(fixture(), "4.x/x86/release/distribution_files/core.gz"))} > ${q(bad)}`);
    const r = await mkbundleIn(["rebuild-iso", "1.0", "--bundle", bad, "--out", join(dir, "bad-out")]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/broken-bundle-dev\.tar\.gz: gzip: truncated/);
    const none = await mkbundleIn(["rebuild-iso", "--out", join(dir, "empty-out")]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("no *-bundle-*.tar.gz here");
  });

  it("a bundle.json that does not match its schema, or an overlay that does not match its sha256, is refused", async () => {
    const m = write("tamper/app.yaml", "name: tamper\nversion: 1.0.0\nbase:\n  iso: Core-4.4.iso\n");
    const out = join(dir, "tamper-out");
    expect((await mkbundleIn(["bundle", m, "--mirror", fixture(), "--work-dir", wd, "--out", out], { env })).code).toBe(
      0,
    );
    const unpacked = join(dir, "tamper-members");
    sh(`mkdir -p ${q(unpacked)} && tar -xzf ${q(join(out, "tamper-bundle-dev.tar.gz"))} -C ${q(unpacked)}`);
    const json = JSON.parse(readFileSync(join(unpacked, "bundle.json"), "utf8")) as Record<string, unknown>;
    const repack = async (name: string, edit: (j: Record<string, unknown>) => void) => {
      const j = structuredClone(json);
      edit(j);
      writeFileSync(join(unpacked, "bundle.json"), JSON.stringify(j));
      const bundle = join(dir, name);
      sh(`cd ${q(unpacked)} && tar -czf ${q(bundle)} *`);
      return mkbundleIn(["rebuild-iso", "--bundle", bundle, "--out", join(dir, `${name}-out`)], { env });
    };
    const badFlavour = await repack("bad-flavour-bundle-dev.tar.gz", (j) => (j["flavour"] = "banana"));
    expect(badFlavour.code).toBe(2); // well-formed but invalid: refused before any work
    expect(badFlavour.stderr).toContain(
      "bundle.json does not match schemas/bundle.schema.json: flavour 'banana' is not allowed",
    );
    const badLock = await repack(
      "bad-lock-bundle-dev.tar.gz",
      (j) => delete (j["lock"] as Record<string, unknown>)["base"],
    );
    expect(badLock.stderr).toContain("lock missing required key 'base'");
    const badSha = await repack(
      "bad-sha-bundle-dev.tar.gz",
      (j) => ((j["members"] as Record<string, string>)[j["overlay"] as string] = "0".repeat(64)),
    );
    expect(badSha.code).toBe(1);
    expect(badSha.stderr).toMatch(/overlay-[0-9a-f]{64}\.tar\.gz does not match its sha256 in bundle\.json/);
  });
});
