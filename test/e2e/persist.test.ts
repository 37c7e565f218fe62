// persist: a data partition that keeps a service's data across boots, on the x86_64 fixture.
// The build writes <name>-dev-1.0.0-data.img (ext2, labelled) and puts home=LABEL=… on the boot
// line; booted as a CD with the data image as a second disk, Tiny Core's tc-config mounts it
// on /home, and the service's own count of boots goes 1, then 2. e2fsck finds the file system
// the guest wrote clean, and mkbundle reads the guest's file back. The same build twice leaves
// it alone; another build refuses to replace the guest's data (exit 2) unless --force.
// The fixture's kernel has no ext4 module: the test adds it (and its dependencies, with the
// depmod files for them) from the kernel's own Debian package, as a user would with files:.
import { createHash } from "node:crypto";
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { mkbundleAsync } from "../helpers/cli.js";
import { modulesWith } from "../helpers/kernel-modules.js";
import { fixturesDir } from "../helpers/paths.js";
import { q, sh } from "../helpers/run.js";
import { tempDir } from "../helpers/tmp.js";

const { dir, write } = tempDir("mkbundle-persist-");
const sha = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");
const EXT4 = [
  "kernel/fs/ext4/ext4.ko",
  "kernel/fs/jbd2/jbd2.ko",
  "kernel/fs/mbcache.ko",
  "kernel/lib/crc16.ko",
  "kernel/crypto/crc32c_generic.ko",
];

const manifest = (files: string, extra = "") => `name: keep-demo
version: 1.0.0
flavour: dev
base: { release: 10.x, arch: x86_64, iso: CorePure64-10.1.iso }
persist:
  size: 16MiB
  paths: [home]
files:
${files}${extra}services:
  - name: count
    run: |
      echo boot >> /home/tc/boots.log && sync
      echo "keep-demo: boots=$(wc -l < /home/tc/boots.log) on $(df /home | tail -n 1 | cut -d' ' -f1)"
    log: /dev/ttyS0
boot:
  append: [console=ttyS0]
  timeout: 0
`;

describe("persist: a data partition", () => {
  it("keeps the service's data across two boots; e2fsck is clean; a rebuild leaves it, --force replaces it", async () => {
    const files = await modulesWith(join(dir, "app"), EXT4);
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
      const t = await mkbundleAsync([
        "test",
        iso,
        "--data",
        data,
        "--expect",
        `keep-demo: boots=${n} on /dev/sd`,
        "--timeout",
        "150",
      ]);
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
    expect((await mkbundleAsync(["ls", data])).stdout).not.toContain("boots.log");
    expect((await mkbundleAsync(["cat", kept, "home/tc/boots.log"])).stdout).toBe("boot\nboot\n");

    // One disk image: the hybrid ISO, then the data partition (MBR entry 2, type 83), booted
    // read-write as a disk: the count goes 1, 2 on the second partition.
    const disk = await build("--format", "iso,disk");
    expect(disk.code, disk.stderr).toBe(0);
    const img = join(out, "keep-demo-dev-1.0.0.img");
    const fdisk = sh(`sfdisk -d ${q(img)}`).toString();
    expect(fdisk).toMatch(/\.img2 : start=\s*(\d+), size=\s*34816, type=83/);
    for (const n of [1, 2]) {
      const t = await mkbundleAsync([
        "test",
        img,
        "--disk",
        "--expect",
        `keep-demo: boots=${n} on /dev/sda2`,
        "--timeout",
        "150",
      ]);
      expect(t.code, t.stderr.slice(-3000)).toBe(0);
    }
    const start = Number(/\.img2 : start=\s*(\d+)/.exec(fdisk)![1]);
    const part = join(dir, "part2.img");
    writeFileSync(part, readFileSync(img).subarray(start * 512));
    expect(sh(`e2fsck -fn ${q(part)} 2>&1; echo "exit $?"`).toString()).toMatch(/exit 0\s*$/);
    expect(sh(`debugfs -R ${q("cat /home/tc/boots.log")} ${q(part)} 2>/dev/null`).toString()).toBe("boot\nboot\n");
    // Its data partition is the guest's now: another build refuses to replace the disk image.
    const diskSha = sha(img);
    writeFileSync(m, manifest(files).replace("16MiB", "18MiB"));
    const refusedDisk = await build("--format", "iso,disk");
    expect(refusedDisk.code).toBe(2);
    expect(refusedDisk.stderr).toContain(`${img} holds data a build did not write`);
    expect(sha(img)).toBe(diskSha);
  }, 600_000);
});
