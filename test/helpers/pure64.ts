// The x86_64 service image the CorePure64 boot tests share: a builtin dosfstools whose
// programs only a loop-mounted extension runs as checked, and a static busybox httpd
// (Debian's busybox-static, installed by .ci/run: the fixture's busybox has no httpd applet).
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import { mkbundleAsync } from "./cli.js";
import { fixturesDir } from "./paths.js";
import { tempDir } from "./tmp.js";

export const sha256 = (f: string): string => createHash("sha256").update(readFileSync(f)).digest("hex");

/** Debian's isolinux and syslinux-common. */
export const ISOLINUX = {
  bin: "/usr/lib/ISOLINUX/isolinux.bin",
  ldlinux: "/usr/lib/syslinux/modules/bios/ldlinux.c32",
  mbr: "/usr/lib/ISOLINUX/isohdpfx.bin",
};

const STATIC_BUSYBOX = ["/bin/busybox", "/usr/bin/busybox"].find(existsSync) ?? "/bin/busybox";

const PAGE = "Hello from a CorePure64 microkernel";

/**
 * What only a loop-mounted dosfstools can print: fsck.fat's verdict on a FAT image its
 * mkfs.fat made, the path its mkfs.fat runs from, and tce-setup's mount point; then the
 * address DHCP gave eth0 before the server starts. mkfs.fat and fsck.fat run inside the
 * guest, from the fixture's dosfstools.tcz: the host needs no dosfstools.
 */
const SERVICE_EXPECT = [
  "web: /tmp/fat.img: 0 files",
  "web: mkfs.fat runs from /tmp/tcloop/dosfstools/usr/local/sbin/mkfs.fat",
  "web: tcloop has dosfstools",
  "web: network 10\\.0\\.2\\.15",
];

const SERVICE = `files:
  - path: /usr/local/bin/busybox-static
    source: busybox-static
    mode: "0755"
  - path: /srv/www/index.html
    content: "<p>${PAGE}</p>\\n"
services:
  - name: web
    run: |
      dd if=/dev/zero of=/tmp/fat.img bs=1024 count=1024 2>/dev/null
      mkfs.fat /tmp/fat.img >/dev/null 2>&1
      echo "web: $(fsck.fat -n /tmp/fat.img 2>&1 | tail -n 1)"
      echo "web: mkfs.fat runs from $(readlink -f "$(which mkfs.fat)")"
      echo "web: tcloop has $(ls /tmp/tcloop | tr '\\n' ' ')"
      i=0; while [ $i -lt 90 ] && ! ifconfig eth0 2>/dev/null | grep -q 'inet addr'; do sleep 1; i=$((i+1)); done
      echo "web: network $(ifconfig eth0 | sed -n 's/.*inet addr:\\([0-9.]*\\).*/\\1/p')"
      exec /usr/local/bin/busybox-static httpd -f -p 80 -h /srv/www
    log: /dev/ttyS0
boot:
  append: [console=ttyS0]
  timeout: 0
`;

/** A temporary workspace; ports for --port forwards count up from firstPort (one per boot). */
export function pure64Workspace(prefix: string, firstPort: number) {
  const { dir, write } = tempDir(prefix);
  const wd = join(dir, "wd");
  const mirror = () => join(fixturesDir(), "tinycore");
  let port = firstPort;

  /** A prod manifest with the service, dosfstools builtin, and `base` (YAML lines starting with base:). */
  function manifest(name: string, base: string): string {
    const m = write(
      `${name}/${name}.yaml`,
      `name: ${name}\nversion: 1.0.0\nflavour: prod\n${base}extensions:\n  builtin: [dosfstools]\n${SERVICE}`,
    );
    copyFileSync(STATIC_BUSYBOX, join(dir, name, "busybox-static"));
    return m;
  }

  async function build(m: string, out: string, extra: string[] = []): Promise<string> {
    const r = await mkbundleAsync(["build", m, ...extra, "--mirror", mirror(), "--work-dir", wd, "--out", out]);
    expect(r.code, r.stderr).toBe(0);
    return r.stdout.trim();
  }

  /** mkbundle test: the service's own lines on the console, and its page over HTTP from the host. */
  async function serviceTest(iso: string, extra: string[] = []): Promise<void> {
    const host = port++;
    const r = await mkbundleAsync([
      "test",
      iso,
      ...extra,
      ...SERVICE_EXPECT.flatMap((e) => ["--expect", e]),
      "--port",
      `${host}:80`,
      "--http",
      `http://127.0.0.1:${host}/~${PAGE}`,
      "--timeout",
      "240",
    ]);
    expect(r.code, r.stderr.slice(-4000)).toBe(0);
  }

  return { dir, write, wd, mirror, manifest, build, serviceTest };
}
