// The "microkernel service maker" on a modern base: the 10.x x86_64 fixture (CorePure64
// layout, a kernel that loop-mounts squashfs, an e1000 driver). A builtin extension is
// loop-mounted by Tiny Core's own tce-setup at boot (its program runs from
// /tmp/tcloop/<name>, not from an unpacked copy), and a static busybox httpd brought in with
// files: answers over QEMU's user network on a forwarded port. Booted as a full remaster,
// with --append-initrd and with --kernel.
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { mkbundleAsync } from "../helpers/cli.js";
import { pure64Workspace } from "../helpers/pure64.js";

const { dir, manifest, build, serviceTest } = pure64Workspace("mkbundle-pure64-", 18180);

describe("CorePure64: a builtin extension loop-mounted at boot and an HTTP service", () => {
  let m: string;
  beforeAll(() => {
    m = manifest("pure64-web", "base:\n  release: 10.x\n  arch: x86_64\n");
  });

  it("full remaster, from the ISO; onboot.lst lists the extension", async () => {
    const iso = await build(m, join(dir, "full"));
    expect(iso).toMatch(/pure64-web-prod-1\.0\.0\.iso$/);
    const onboot = await mkbundleAsync(["cat", iso, "boot/corepure64.gz", "tmp/builtin/onboot.lst"]);
    expect(onboot.stdout).toBe("dosfstools.tcz\n");
    await serviceTest(iso);
  }, 360_000);

  it("--append-initrd", async () => {
    await serviceTest(await build(m, join(dir, "append"), ["--append-initrd"]));
  }, 360_000);

  it("mkbundle test --kernel", async () => {
    await serviceTest(await build(m, join(dir, "full")), ["--kernel"]);
  }, 360_000);
});
