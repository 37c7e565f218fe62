// A network driver the base lacks, added with kernel_modules: and nothing else. The base is
// the x86_64 fixture's distribution files with e1000.ko taken out of its initrd (by mkbundle's
// own cpio reader and writer); the manifest adds e1000.ko back straight out of the kernel's
// Debian package (its data.tar.xz) with load: auto. In QEMU, udev finds it through the regenerated modules.alias for
// the e1000 device, the NIC gets an address by DHCP, and the service answers HTTP through the
// forwarded port; it also prints what busybox's modinfo says of e1000 and that it is loaded.
import { createHash } from "node:crypto";
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { beforeAll, describe, expect, it } from "vitest";
import { cpio } from "../../src/formats/cpio/codec.js";
import { DEFAULT_LIMITS } from "../../src/formats/limits.js";
import { openBaseImage } from "../../src/tinycore/base-image.js";
import { fileEntry, readContent, type Entry } from "../../src/tree/entry.js";
import { mkbundleAsync } from "../helpers/cli.js";
import { copyKernelDeb, FIXTURE_KERNEL } from "../helpers/kernel-modules.js";
import { fixturesDir } from "../helpers/paths.js";
import { tempDir } from "../helpers/tmp.js";

const { dir, write } = tempDir("mkbundle-drivers-");
const mirror = join(dir, "mirror");
const E1000 = "kernel/drivers/net/ethernet/intel/e1000/e1000.ko";
const release = join(mirror, "10.x/x86_64/release/distribution_files");
// Debian's ISOLINUX (isolinux, syslinux-common: installed by .ci/run), pinned like any base part.
const ISOLINUX = "/usr/lib/ISOLINUX/isolinux.bin";
const LDLINUX = "/usr/lib/syslinux/modules/bios/ldlinux.c32";
const sha = (f: string) => createHash("sha256").update(readFileSync(f)).digest("hex");

beforeAll(async () => {
  cpSync(join(fixturesDir(), "tinycore", "10.x"), join(mirror, "10.x"), { recursive: true, dereference: true });
  // The fixture's initrd as if it never had e1000: no e1000.ko, and no line of its in the
  // dependency files (so only the ones the build writes can lead udev to it).
  const base = await openBaseImage(join(release, "../CorePure64-10.1.iso"), DEFAULT_LIMITS);
  try {
    const dir = `lib/modules/${FIXTURE_KERNEL}`;
    const withoutE1000 = (e: Entry): Entry => {
      if (!/\/modules\.(dep|alias|symbols)$/.test(e.path)) return e;
      const lines = readContent(e).toString("utf8").split("\n");
      return fileEntry(e.path, Buffer.from(lines.filter((l) => !l.includes("e1000")).join("\n")), e.mtime, e.mode);
    };
    const entries = [...(await base.initrd()).values()]
      .filter((e) => ![E1000, "modules.dep.bin", "modules.alias.bin"].some((p) => e.path === `${dir}/${p}`))
      .map(withoutE1000);
    expect(entries.some((e) => e.path === `${dir}/modules.alias` && readContent(e).includes("e1000"))).toBe(false);
    expect(entries.length).toBeGreaterThan(100);
    const parts: Buffer[] = [];
    for await (const c of cpio.write(entries, { epoch: 1_560_000_000 }).stream()) parts.push(Buffer.from(c));
    writeFileSync(join(release, "corepure64.gz"), gzipSync(Buffer.concat(parts)));
  } finally {
    base.close();
  }
});

describe("kernel_modules: a NIC driver the base lacks", () => {
  it("udev loads the added e1000 through modules.alias, the NIC comes up, and the service answers HTTP", async () => {
    const app = join(dir, "app");
    const m = write(
      "app/nic.yaml",
      `name: nic
version: 1.0.0
flavour: dev
base:
  release: 10.x
  arch: x86_64
  kernel: vmlinuz64
  initrds: [corepure64.gz]
  isolinux:
    bin: { url: ${ISOLINUX}, sha256: ${sha(ISOLINUX)} }
    ldlinux: { url: ${LDLINUX}, sha256: ${sha(LDLINUX)} }
kernel_modules:
  - { extract: { file: ${copyKernelDeb(app)}, path: e1000.ko }, path: ${E1000} }
files:
  - path: /opt/nic/respond.sh
    mode: "0755"
    content: |
      #!/bin/sh
      read request
      while read header && [ "$(echo "$header" | tr -d '\\r')" != "" ]; do :; done
      printf 'HTTP/1.0 200 OK\\r\\nContent-Length: 20\\r\\nConnection: close\\r\\n\\r\\nserved over e1000 !\\n'
services:
  - name: web
    run: |
      echo "nic: $(modinfo e1000 | grep -E '^(filename|vermagic)' | tr -s ' \\t' ' ' | tr '\\n' ';')"
      i=0; while [ $i -lt 90 ] && ! ifconfig eth0 2>/dev/null | grep -q 'inet addr'; do sleep 1; i=$((i+1)); done
      echo "nic: loaded $(grep -c '^e1000 ' /proc/modules), address $(ifconfig eth0 | sed -n 's/.*inet addr:\\([0-9.]*\\).*/\\1/p')"
      while true; do nc -l -p 80 -e /opt/nic/respond.sh; done
    log: /dev/ttyS0
boot:
  append: [console=ttyS0]
`,
    );
    const built = await mkbundleAsync([
      "build",
      m,
      "--mirror",
      mirror,
      "--work-dir",
      join(dir, "wd"),
      "--out",
      join(dir, "out"),
      "--format",
      "iso",
    ]);
    expect(built.code, built.stderr).toBe(0);
    const t = await mkbundleAsync([
      "test",
      built.stdout.trim(),
      "--kernel",
      "--expect",
      `nic: filename: /lib/modules/${FIXTURE_KERNEL}/${E1000.replaceAll(".", "\\.")};vermagic: ${FIXTURE_KERNEL} `,
      "--expect",
      "nic: loaded 1, address 10\\.0\\.2\\.15",
      "--port",
      "18184:80",
      "--http",
      "http://127.0.0.1:18184/~served over e1000 !",
      "--timeout",
      "240",
    ]);
    expect(t.code, t.stderr.slice(-4000)).toBe(0);
  }, 400_000);
});
