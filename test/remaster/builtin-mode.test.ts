// --builtin auto: Tiny Core loads builtin extensions at boot only when its kernel can
// loop-mount squashfs; the drivers may be modules in any base initrd, or built in.
import { describe, expect, it } from "vitest";
import type { Lock } from "../../src/lock/lock-file.js";
import { chooseMode, missingLoopDrivers } from "../../src/remaster/unpack-builtin.js";
import type { Entry } from "../../src/tree/entry.js";
import { treeOf } from "../../src/tree/file-tree.js";
import { bufferSource } from "../../src/io/byte-source.js";

const file = (path: string, text = ""): Entry => ({
  path,
  type: "file",
  mode: 0o644,
  uid: 0,
  gid: 0,
  mtime: 0,
  size: Buffer.byteLength(text),
  content: () => bufferSource(Buffer.from(text)),
});
const dir = (path: string): Entry => ({ path, type: "dir", mode: 0o755, uid: 0, gid: 0, mtime: 0, size: 0 });
const REL = "6.1.0-57-amd64";
const mods = `lib/modules/${REL}/kernel`;
const lock = (kernel?: string) =>
  ({
    ...(kernel ? { kernel } : {}),
    extensions: [{ name: "dosfstools", role: "builtin", requiredBy: [], deps: [], size: 0, md5: "", sha256: "" }],
  }) as unknown as Lock;

describe("which loop drivers a base lacks", () => {
  it("finds loop and squashfs as modules, compressed or not", async () => {
    const t = treeOf([
      dir("lib/modules"),
      file(`${mods}/drivers/block/loop.ko`),
      file(`${mods}/fs/squashfs/squashfs.ko.gz`),
    ]);
    expect(await missingLoopDrivers(t, REL)).toEqual([]);
    expect(await chooseMode("auto", t, lock(REL))).toMatchObject({ unpack: false });
  });

  it("counts drivers modules.builtin lists as built in", async () => {
    const t = treeOf([
      file(`lib/modules/${REL}/modules.builtin`, "kernel/drivers/block/loop.ko\nkernel/fs/squashfs/squashfs.ko\n"),
    ]);
    expect(await missingLoopDrivers(t, REL)).toEqual([]);
  });

  it("names what is missing: an empty lib/modules, modules of another kernel, or only one of the two", async () => {
    expect(await missingLoopDrivers(treeOf([dir("lib/modules")]), undefined)).toEqual(["loop", "squashfs"]);
    const other = treeOf([
      file("lib/modules/5.0.0/kernel/drivers/block/loop.ko"),
      file("lib/modules/5.0.0/kernel/fs/squashfs/squashfs.ko"),
    ]);
    expect(await missingLoopDrivers(other, REL)).toEqual(["loop", "squashfs"]);
    const half = treeOf([file(`${mods}/drivers/block/loop.ko.xz`), file(`${mods}/drivers/net/e1000.ko`)]);
    expect(await missingLoopDrivers(half, REL)).toEqual(["squashfs"]);
    const chosen = await chooseMode("auto", half, lock(REL));
    expect(chosen.unpack).toBe(true);
    expect(chosen.why).toMatch(/no squashfs driver for 6\.1\.0-57-amd64/);
  });

  it("--builtin load and unpack are obeyed whatever the base has", async () => {
    const none = treeOf([]);
    expect(await chooseMode("load", none, lock())).toMatchObject({ unpack: false });
    expect(await chooseMode("unpack", treeOf([file(`${mods}/drivers/block/loop.ko`)]), lock(REL))).toMatchObject({
      unpack: true,
    });
  });
});
