// One image, four boots: the 10.x x86_64 fixture with Debian's systemd-boot as boot.uefi's
// loader. The same ISO boots a BIOS from CD and from disk (isolinux, isohybrid MBR) and UEFI
// firmware (OVMF) from CD (the 0xEF El Torito entry) and from disk (the 0xEF partition); in
// each the service prints the kernel command line it was given, which must carry
// boot.append. The ESP image is checked by dosfstools and mtools, the ISO by xorriso.
import { createHash } from "node:crypto";
import { cpSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { mkbundleAsync } from "../helpers/cli.js";
import { fixturesDir } from "../helpers/paths.js";
import { q, sh } from "../helpers/run.js";
import { tempDir } from "../helpers/tmp.js";

const { dir, write } = tempDir("mkbundle-uefi-");
const LOADER = "/usr/lib/systemd/boot/efi/systemd-bootx64.efi"; // Debian's systemd-boot-efi, installed by .ci/run
const LOADER_IN_TCZ = "usr/lib/systemd/boot/efi/systemd-bootx64.efi";
const MARK = "mkmark=uefi-four-ways";
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const shaOf = (f: string) => sha(readFileSync(f));
const mirror = join(dir, "mirror");
const wd = join(dir, "wd");

const manifest = (name: string, loader: string, base = "  release: 10.x\n  arch: x86_64\n") =>
  write(
    `${name}/${name}.yaml`,
    `name: ${name}
version: 1.0.0
flavour: dev
base:
${base}services:
  - name: svc
    run: |
      echo "svc: up, cmdline $(cat /proc/cmdline)"
    log: /dev/ttyS0
boot:
  append: [console=ttyS0, ${MARK}]
  timeout: 0
  uefi:
    loader: ${loader}
`,
  );

const build = (m: string, out: string, extra: string[] = []) =>
  mkbundleAsync(["build", m, "--mirror", mirror, "--work-dir", wd, "--out", out, ...extra]);

/** mkbundle test: the service's own line, with the kernel command line it got carrying boot.append. */
async function serviceRuns(image: string, way: string[]): Promise<void> {
  const expectLine = `svc: up, cmdline .*console=ttyS0 ${MARK}`;
  const r = await mkbundleAsync(["test", image, ...way, "--expect", expectLine, "--timeout", "240"]);
  expect(r.code, r.stderr.slice(-4000)).toBe(0);
}

/** A file of the ISO, as xorriso extracts it. */
function extract(iso: string, path: string, to: string): string {
  sh(`xorriso -osirrox on -indev ${q(iso)} -extract /${path} ${q(to)} 2>/dev/null`);
  return to;
}

let iso = "";
const pinned = `{ url: ${LOADER}, sha256: ${shaOf(LOADER)} }`;

beforeAll(async () => {
  // The fixture mirror, plus an extension that carries the loader (as a distribution could).
  cpSync(join(fixturesDir(), "tinycore", "10.x"), join(mirror, "10.x"), { recursive: true, dereference: true });
  cpSync(join(fixturesDir(), "tinycore", "4.x"), join(mirror, "4.x"), { recursive: true, dereference: true });
  const src = join(dir, "systemd-boot", LOADER_IN_TCZ.replace(/\/[^/]+$/, ""));
  mkdirSync(src, { recursive: true });
  writeFileSync(join(src, "systemd-bootx64.efi"), readFileSync(LOADER));
  const tcz = join(mirror, "10.x/x86_64/tcz");
  sh(
    `mksquashfs ${q(join(dir, "systemd-boot"))} ${q(join(tcz, "systemd-boot.tcz"))} -noappend -quiet -no-progress -b 4096 -no-xattrs -all-root`,
  );
  sh(`cd ${q(tcz)} && md5sum systemd-boot.tcz > systemd-boot.tcz.md5.txt`);

  const m = manifest("uefi-svc", pinned);
  const r = await build(m, join(dir, "out1"));
  expect(r.code, r.stderr).toBe(0);
  iso = r.stdout.trim();
}, 120_000);

describe("boot.uefi: one ISO for BIOS and UEFI, CD and disk", () => {
  it("builds the same bytes twice; xorriso sees a BIOS and a UEFI boot entry and the ESP as partition 2", async () => {
    const again = await build(join(dir, "uefi-svc/uefi-svc.yaml"), join(dir, "out2"));
    expect(again.code, again.stderr).toBe(0);
    expect(shaOf(again.stdout.trim())).toBe(shaOf(iso));
    const torito = sh(`xorriso -indev ${q(iso)} -report_el_torito plain 2>&1`).toString();
    expect(torito).toMatch(/El Torito boot img :\s+1\s+BIOS\s+y\s+none/);
    expect(torito).toMatch(/El Torito boot img :\s+2\s+UEFI\s+y\s+none/);
    expect(torito).toMatch(/El Torito img path :\s+2\s+\/efi\.img/);
    const area = sh(`xorriso -indev ${q(iso)} -report_system_area plain 2>&1`).toString();
    expect(area).toMatch(/MBR partition\s+:\s+1\s+0x80\s+0x00\s+0\s+\d+/);
    expect(area).toMatch(/MBR partition\s+:\s+2\s+0x00\s+0xef\s+\d+\s+\d+/);
    expect(area).toMatch(/MBR partition path :\s+2\s+\/efi\.img/);
    // The kernel and initrd are stored once: their ISO records point inside efi.img.
    const lba = Object.fromEntries(
      [
        ...sh(`xorriso -indev ${q(iso)} -find / -exec report_lba 2>/dev/null`)
          .toString()
          .matchAll(/File data lba:\s+0 ,\s+(\d+) ,\s+(\d+) ,\s+\d+ , '\/(\S+)'/g),
      ].map((m) => [m[3]!, [Number(m[1]), Number(m[2])]]),
    ) as Record<string, [number, number]>;
    const [espStart, espBlocks] = lba["efi.img"]!;
    for (const f of ["boot/vmlinuz64", "boot/corepure64.gz"]) {
      expect(lba[f]![0], f).toBeGreaterThan(espStart);
      expect(lba[f]![0] + lba[f]![1], f).toBeLessThanOrEqual(espStart + espBlocks);
    }
    // The lock pins the loader.
    const lock = parse(readFileSync(join(dir, "uefi-svc/uefi-svc.lock"), "utf8")) as {
      uefiLoader: { sha256: string; size: number };
    };
    expect(lock.uefiLoader).toMatchObject({ sha256: shaOf(LOADER), size: readFileSync(LOADER).length });
  }, 240_000);

  it("the ESP passes fsck.fat; mtools reads back the loader, its configuration, the kernel and the initrd", async () => {
    const esp = extract(iso, "efi.img", join(dir, "esp.img"));
    expect(sh(`fsck.fat -n ${q(esp)}; echo "rc=$?"`).toString()).toMatch(/rc=0\s*$/);
    const files = join(dir, "esp-files");
    sh(`mkdir -p ${q(files)} && MTOOLS_SKIP_CHECK=1 mcopy -s -n -i ${q(esp)} '::*' ${q(files)}/`);
    expect(shaOf(join(files, "EFI/BOOT/BOOTX64.EFI"))).toBe(shaOf(LOADER));
    for (const f of ["boot/vmlinuz64", "boot/corepure64.gz"])
      expect(shaOf(join(files, f)), f).toBe(shaOf(extract(iso, f, join(dir, f.replace("/", "-")))));
    expect(readFileSync(join(files, "loader/loader.conf"), "utf8")).toBe(
      "timeout 0\ndefault uefi-svc.conf\neditor yes\n",
    );
    expect(readFileSync(join(files, "loader/entries/uefi-svc.conf"), "utf8")).toBe(
      `title uefi-svc 1.0.0 (dev)\nlinux /boot/vmlinuz64\ninitrd /boot/corepure64.gz\noptions loglevel=3 console=ttyS0 ${MARK}\n`,
    );
    // mkbundle reads the ESP inside the ISO, and --format esp wrote the same image beside it.
    const ls = await mkbundleAsync(["ls", iso, "efi.img", "EFI/BOOT"]);
    expect(ls.code, ls.stderr).toBe(0);
    expect(ls.stdout).toMatch(/140891 .* EFI\/BOOT\/BOOTX64\.EFI/);
    expect(shaOf(join(dir, "out1/uefi-svc-dev-1.0.0-efi.img"))).toBe(shaOf(esp));
  }, 120_000);

  for (const way of [[], ["--disk"], ["--uefi"], ["--uefi", "--disk"]]) {
    it(`mkbundle test ${way.join(" ") || "(BIOS, CD)"}: the service runs and its kernel command line carries boot.append`, async () => {
      await serviceRuns(iso, way);
    }, 360_000);
  }

  it("--append-initrd under UEFI: the entry lists both initrds, and the service from the second one runs", async () => {
    const r = await build(join(dir, "uefi-svc/uefi-svc.yaml"), join(dir, "out-append"), ["--append-initrd"]);
    expect(r.code, r.stderr).toBe(0);
    const appended = r.stdout.trim();
    const entry = await mkbundleAsync(["cat", appended, "efi.img", "loader/entries/uefi-svc.conf"]);
    expect(entry.stdout).toContain("initrd /boot/corepure64.gz\ninitrd /boot/uefi-svc.gz\n");
    await serviceRuns(appended, ["--uefi"]);
  }, 360_000);

  it("the loader can come out of an extension on the mirror, pinned in the lock with it", async () => {
    const m = manifest("uefi-tcz", `{ extension: systemd-boot, path: ${LOADER_IN_TCZ} }`);
    const r = await build(m, join(dir, "out-tcz"));
    expect(r.code, r.stderr).toBe(0);
    const lock = parse(readFileSync(join(dir, "uefi-tcz/uefi-tcz.lock"), "utf8")) as {
      extensions: { name: string; role: string }[];
    };
    expect(lock.extensions).toContainEqual(expect.objectContaining({ name: "systemd-boot", role: "extract" }));
    const esp = extract(r.stdout.trim(), "efi.img", join(dir, "esp-tcz.img"));
    const cat = sh(`MTOOLS_SKIP_CHECK=1 mtype -i ${q(esp)} ::/EFI/BOOT/BOOTX64.EFI | sha256sum`).toString();
    expect(cat.split(" ")[0]).toBe(shaOf(LOADER));
    const wrong = manifest("uefi-tcz-miss", `{ extension: systemd-boot, path: usr/lib/nope.efi }`);
    const miss = await build(wrong, join(dir, "out-miss"));
    expect(miss.code).toBe(1);
    expect(miss.stderr).toMatch(
      /systemd-boot\.tcz has no file usr\/lib\/nope\.efi \(its \.efi files: usr\/lib\/systemd\/boot\/efi\/systemd-bootx64\.efi\)/,
    );
  }, 240_000);

  it("a loader that is not the pinned one is refused", async () => {
    const tampered = join(dir, "bad-loader.efi");
    const bytes = Buffer.from(readFileSync(LOADER));
    bytes[1000] = bytes[1000]! ^ 0xff;
    writeFileSync(tampered, bytes);
    const m = manifest("uefi-bad", `{ url: ${tampered}, sha256: ${shaOf(LOADER)} }`);
    // A fresh store: the shared one already holds the pinned bytes, and would use them.
    const r = await mkbundleAsync([
      "build",
      m,
      "--mirror",
      mirror,
      "--work-dir",
      join(dir, "wd-bad"),
      "--out",
      join(dir, "out-bad"),
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /uefi-bad\.yaml:\d+:\d+: sha256 mismatch for file:\/\/.*bad-loader\.efi: expected [0-9a-f]{64}, got [0-9a-f]{64} \(boot\.uefi\.loader\.sha256 pins other bytes/,
    );
  }, 120_000);

  it("the 4.x base (a 32-bit kernel without EFI stub) is refused with exit 2 naming the kernel", async () => {
    // The ISO named, not Core-current.iso: a checkout lays that out as a link file or a symlink.
    const m = manifest("uefi-4x", pinned, "  release: 4.x\n  arch: x86\n  iso: Core-4.4.iso\n");
    const r = await build(m, join(dir, "out-4x"));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/boot\.uefi: the kernel \/boot\/vmlinuz of Core-4\.4\.iso has no EFI stub/);
  }, 120_000);

  it("--uefi on a BIOS-only ISO says why it cannot boot, before QEMU starts", async () => {
    const bios = join(fixturesDir(), "tinycore/10.x/x86_64/release/CorePure64-10.1.iso");
    const cd = await mkbundleAsync(["test", bios, "--uefi", "--expect", "x"]);
    expect(cd.code).toBe(2);
    expect(cd.stderr).toMatch(/no UEFI El Torito entry: it cannot boot as a CD under UEFI/);
    const disk = await mkbundleAsync(["test", bios, "--uefi", "--disk", "--expect", "x"]);
    expect(disk.code).toBe(2);
    expect(disk.stderr).toMatch(/no EFI System Partition in its partition table/);
  });
});
