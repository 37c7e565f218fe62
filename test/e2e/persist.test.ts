// persist: a data partition that keeps a service's data across boots, on the x86_64 fixture.
// The build writes <name>-dev-1.0.0-data.img (ext2, labelled, holding persist.seed's file) and
// puts home=LABEL=… on the boot line; booted as a CD with the data image as a second disk,
// Tiny Core's tc-config mounts it on /home, the service reads the seed (in a home tc owns) and
// its own count of boots goes 1, then 2. e2fsck finds the file system the guest wrote clean,
// and mkbundle reads the guest's file back. The same build twice leaves it alone; another
// build refuses to replace the guest's data (exit 2) unless --force. Then one disk image (the
// hybrid ISO with boot.uefi, and the data partition) boots from a BIOS (1) and then from UEFI
// firmware (2): both keep their data in the same partition.
// The fixture's kernel has no ext4 module: the manifest adds it and its dependencies from the
// kernel's own Debian package with kernel_modules: (load: auto), so mounting the partition
// proves the regenerated modules.alias (fs-ext2 -> ext4) and modules.dep in the guest; one
// more (crc-itu-t, which nothing asks for) has load: boot, and the service sees it loaded.
import { createHash } from "node:crypto";
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { mkbundleAsync } from "../helpers/cli.js";
import { EXT4_MODULES, kernelModulesFromDeb } from "../helpers/kernel-modules.js";
import { fixturesDir } from "../helpers/paths.js";
import { q, sh } from "../helpers/run.js";
import { tempDir } from "../helpers/tmp.js";

const { dir, write } = tempDir("mkbundle-persist-");
const sha = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");
const EXT4 = EXT4_MODULES;
const BOOT_LOADED = ["kernel/lib/crc-itu-t.ko"];

const LOADER = "/usr/lib/systemd/boot/efi/systemd-bootx64.efi"; // Debian's systemd-boot-efi, installed by .ci/run

const manifest = (modules: string) => `name: keep-demo
version: 1.0.0
flavour: dev
base: { release: 10.x, arch: x86_64, iso: CorePure64-10.1.iso }
persist:
  size: 16MiB
  paths: [home]
  seed:
    - path: /home/tc/greeting
      content: "hello from the seed\\n"
kernel_modules:
${modules}services:
  - name: count
    run: |
      echo boot >> /home/tc/boots.log && sync
      echo "keep-demo: boots=$(wc -l < /home/tc/boots.log) on $(df /home | tail -n 1 | cut -d' ' -f1)" \\
        "seed: $(cat /home/tc/greeting), home owned by $(ls -ld /home/tc | awk '{print $3}')," \\
        "modules: $(grep -Eo '^(ext4|crc_itu_t) ' /proc/modules | tr -d ' ' | sort | tr '\\n' ' ')"
    log: /dev/ttyS0
boot:
  append: [console=ttyS0]
  timeout: 0
  uefi:
    loader: { url: ${LOADER}, sha256: ${sha(LOADER)} }
`;
const said = (n: number, device: string) =>
  `keep-demo: boots=${n} on ${device}.* seed: hello from the seed, home owned by tc, modules: crc_itu_t ext4 `;

describe("persist: a data partition", () => {
  it("keeps the service's data across two boots; e2fsck is clean; a rebuild leaves it, --force replaces it", async () => {
    const files =
      kernelModulesFromDeb(join(dir, "app"), EXT4) + kernelModulesFromDeb(join(dir, "app"), BOOT_LOADED, "boot");
    const m = write("app/keep.yaml", manifest(files));
    const out = join(dir, "out");
    const run = (command: string, ...more: string[]) =>
      mkbundleAsync([
        command,
        m,
        "--mirror",
        join(fixturesDir(), "tinycore"),
        "--work-dir",
        join(dir, "wd"),
        "--out",
        out,
        ...more,
      ]);
    const build = (...more: string[]) => run("build", ...more);
    const first = await build();
    expect(first.code, first.stderr).toBe(0);
    const iso = first.stdout.trim();
    const data = join(out, "keep-demo-dev-1.0.0-data.img");
    expect(sh(`e2fsck -fn ${q(data)} 2>&1; echo "exit $?"`).toString()).toMatch(/exit 0\s*$/);
    expect(sh(`dumpe2fs -h ${q(data)} 2>/dev/null`).toString()).toMatch(/Filesystem volume name:\s+keep-demo\n/);
    const cfg = await mkbundleAsync(["cat", iso, "boot/isolinux/isolinux.cfg"]);
    expect(cfg.stdout).toMatch(/append .*home=LABEL=keep-demo/);
    const fresh = sha(data);

    // Two boots of the CD with the data image attached: the service's own count goes 1, 2.
    for (const n of [1, 2]) {
      const t = await mkbundleAsync(["test", iso, "--data", data, "--expect", said(n, "/dev/sd"), "--timeout", "150"]);
      expect(t.code, t.stderr.slice(-3000)).toBe(0);
    }
    expect(sh(`e2fsck -fn ${q(data)} 2>&1; echo "exit $?"`).toString()).toMatch(/exit 0\s*$/);
    const log = await mkbundleAsync(["cat", data, "home/tc/boots.log"]);
    expect(log.stdout).toBe("boot\nboot\n");
    const guests = sha(data);
    expect(guests).not.toBe(fresh);

    // The same build: nothing to do. Another build: the guest's data is not replaced.
    expect((await build()).code).toBe(0);
    expect(sha(data)).toBe(guests);
    writeFileSync(m, manifest(files).replace("16MiB", "17MiB"));
    const plan = await run("plan");
    expect(plan.stdout).toContain(
      "~ persist (16777216 bytes labelled keep-demo: home -> 17825792 bytes labelled keep-demo: home)",
    );
    const refused = await build();
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("holds data a build did not write (a guest's?): not replaced");
    expect(sha(data)).toBe(guests);
    const kept = join(dir, "kept.img");
    copyFileSync(data, kept);
    const forced = await build("--force");
    expect(forced.code, forced.stderr).toBe(0);
    expect(sha(data)).not.toBe(guests);
    const listed = (await mkbundleAsync(["ls", data])).stdout;
    expect(listed).not.toContain("boots.log");
    expect(listed).toMatch(/^-rw-r--r-- +1001 +50 +20 .* home\/tc\/greeting$/m);
    expect((await mkbundleAsync(["cat", kept, "home/tc/boots.log"])).stdout).toBe("boot\nboot\n");

    // One disk image: the hybrid ISO (with boot.uefi's ESP as MBR entry 2), then the data
    // partition (entry 3, type 83), booted read-write as a disk from a BIOS, then from UEFI
    // firmware: the count goes 1, 2 on the third partition.
    const disk = await build("--format", "iso,disk");
    expect(disk.code, disk.stderr).toBe(0);
    const img = join(out, "keep-demo-dev-1.0.0.img");
    const fdisk = sh(`sfdisk -d ${q(img)}`).toString();
    expect(fdisk).toMatch(/\.img2 : start=.*type=ef/);
    expect(fdisk).toMatch(/\.img3 : start=\s*(\d+), size=\s*34816, type=83/);
    for (const [n, firmware] of [
      [1, []],
      [2, ["--uefi"]],
    ] as const) {
      const t = await mkbundleAsync([
        "test",
        img,
        "--disk",
        ...firmware,
        "--expect",
        said(n, "/dev/sda3"),
        "--timeout",
        "240",
      ]);
      expect(t.code, t.stderr.slice(-3000)).toBe(0);
    }
    // The partition as mkbundle lists it through the image, and as e2fsprogs reads it alone.
    expect((await mkbundleAsync(["cat", img, "partition3.img", "home/tc/boots.log"])).stdout).toBe("boot\nboot\n");
    const start = Number(/\.img3 : start=\s*(\d+)/.exec(fdisk)![1]);
    const part = join(dir, "part3.img");
    writeFileSync(part, readFileSync(img).subarray(start * 512));
    expect(sh(`e2fsck -fn ${q(part)} 2>&1; echo "exit $?"`).toString()).toMatch(/exit 0\s*$/);
    expect(sh(`debugfs -R ${q("cat /home/tc/boots.log")} ${q(part)} 2>/dev/null`).toString()).toBe("boot\nboot\n");
    // Its data partition is the guest's now: another build refuses to replace the disk image.
    const diskSha = sha(img);
    writeFileSync(m, manifest(files).replace("16MiB", "19MiB"));
    const refusedDisk = await build("--format", "iso,disk");
    expect(refusedDisk.code).toBe(2);
    expect(refusedDisk.stderr).toContain(`${img} holds data a build did not write`);
    expect(sha(img)).toBe(diskSha);
  }, 600_000);
});
