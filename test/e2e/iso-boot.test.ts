// Our ISO writer's output boots: the fixture ISO's files rewritten with console=ttyS0 and
// timeout 1 reach Tiny Core's "Setting hostname" under QEMU, as a CD and (hybrid) as a disk.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { openIso } from "../../src/formats/iso9660/reader.js";
import { writeIso } from "../../src/formats/iso9660/writer.js";
import { writeFileAtomic } from "../../src/io/write-atomic.js";
import { readContent, type Entry } from "../../src/tree/entry.js";
import { fixturesDir } from "../helpers/paths.js";
import { bootUntil } from "../helpers/qemu.js";
import { tempDir } from "../helpers/tmp.js";
import { bufferSource } from "../../src/io/byte-source.js";

const { dir } = tempDir("mkbundle-boot-");

async function remastered(target: string, hybrid: boolean): Promise<void> {
  const src = await openIso(join(fixturesDir(), "tinycore/4.x/x86/release/Core-4.4.iso"));
  try {
    const entries: Entry[] = [];
    for (const e of src.entries) {
      if (e.path !== "boot/isolinux/isolinux.cfg") {
        entries.push(e);
        continue;
      }
      const cfg = readContent(e)
        .toString()
        .replace(/^(\s*append .*)$/gm, "$1 console=ttyS0")
        .replace(/^timeout \d+$/m, "timeout 1");
      entries.push({ ...e, content: () => bufferSource(Buffer.from(cfg)), size: Buffer.byteLength(cfg) });
    }
    await writeFileAtomic(
      target,
      writeIso(entries, {
        epoch: 1700000000,
        volume: { volumeId: src.volume.volumeId },
        boot: { imagePath: src.boot!.imagePath!, catalogPath: src.boot!.catalogPath! },
        // The fixture has no MBR of its own: use syslinux's isohybrid boot code.
        ...(hybrid ? { hybridMbrCode: readFileSync("/usr/lib/ISOLINUX/isohdpfx.bin") } : {}),
      }),
    );
  } finally {
    src.close();
  }
}

describe("ISOs written by mkbundle boot", () => {
  it("as a CD-ROM, to Tiny Core's 'Setting hostname'", async () => {
    const iso = join(dir, "cd.iso");
    await remastered(iso, false);
    const r = await bootUntil({ cdrom: iso }, /Setting hostname/);
    expect(r.matched, r.console.slice(-2000)).toBe(true);
  }, 180_000);

  it("as a hybrid image on a raw disk", async () => {
    const iso = join(dir, "hybrid.iso");
    await remastered(iso, true);
    expect(readFileSync(iso).length % (1024 * 1024)).toBe(0);
    // The image is the only drive QEMU has (no CD-ROM): reaching Tiny Core means it booted from the disk.
    const r = await bootUntil({ disk: iso }, /Setting hostname/);
    expect(r.matched, r.console.slice(-2000)).toBe(true);
  }, 180_000);
});
