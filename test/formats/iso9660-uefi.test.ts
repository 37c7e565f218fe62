// The UEFI parts of the ISO writer: a second El Torito entry (platform 0xEF) for an EFI
// System Partition image placed last, and on a hybrid an MBR partition of type 0xEF for it,
// as xorriso reports them; and our reader finding the entry again. Hostile catalogs stay bounded.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { bufferSource } from "../../src/io/byte-source.js";
import { fatImage } from "../../src/formats/fat/writer.js";
import { decodeCatalog, encodeCatalog, sectionSectorCount } from "../../src/formats/iso9660/el-torito.js";
import { hasEspPartition } from "../../src/formats/iso9660/hybrid.js";
import { readIso } from "../../src/formats/iso9660/reader.js";
import { writeIso } from "../../src/formats/iso9660/writer.js";
import { fileEntry, type Entry } from "../../src/tree/entry.js";
import { q, sh } from "../helpers/run.js";
import { tempDir } from "../helpers/tmp.js";

const { dir } = tempDir("mkbundle-iso-uefi-");
const EPOCH = 1577836800;
const file = (path: string, data: Buffer): Entry => fileEntry(path, data, EPOCH);

async function bytesOf(gen: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of gen) parts.push(c);
  return Buffer.concat(parts);
}

async function uefiIso(hybrid: boolean): Promise<{ path: string; bytes: Buffer; esp: Buffer }> {
  const esp = await bytesOf(
    fatImage([file("EFI/BOOT/BOOTX64.EFI", readFileSync("/usr/lib/systemd/boot/efi/systemd-bootx64.efi"))], {
      serial: 7,
      epoch: EPOCH,
    }).stream(),
  );
  const entries = [
    file("boot/isolinux/isolinux.bin", readFileSync("/usr/lib/ISOLINUX/isolinux.bin")),
    file("efi.img", esp),
    file("zzz-after-efi-by-name.txt", Buffer.from("data\n")),
  ];
  const bytes = await bytesOf(
    writeIso(entries, {
      epoch: EPOCH,
      boot: {
        imagePath: "boot/isolinux/isolinux.bin",
        catalogPath: "boot/isolinux/boot.cat",
        sectorCount: 4,
        efiImagePath: "efi.img",
      },
      ...(hybrid ? { hybridMbrCode: readFileSync("/usr/lib/ISOLINUX/isohdpfx.bin") } : {}),
    }),
  );
  const path = join(dir, hybrid ? "hybrid.iso" : "cd.iso");
  writeFileSync(path, bytes);
  return { path, bytes, esp };
}

describe("ISO writer: a UEFI boot entry and partition", () => {
  it("xorriso lists the BIOS and the UEFI entry; our reader finds both and the ESP's path", async () => {
    const { path, bytes, esp } = await uefiIso(false);
    const report = sh(`xorriso -indev ${q(path)} -report_el_torito plain 2>&1`).toString();
    expect(report).toMatch(/boot img :\s+1\s+BIOS\s+y\s+none\s+0x0000\s+0x00\s+4\s+\d+/);
    expect(report).toMatch(
      new RegExp(`boot img :\\s+2\\s+UEFI\\s+y\\s+none\\s+0x0000\\s+0x00\\s+${esp.length / 512}\\s+\\d+`),
    );
    expect(report).toMatch(/img path :\s+2\s+\/efi\.img/);
    const iso = await readIso(bufferSource(bytes));
    expect(iso.boot?.sections).toHaveLength(1);
    expect(iso.boot?.sections[0]).toMatchObject({
      platform: 0xef,
      sectorCount: esp.length / 512,
      imagePath: "efi.img",
    });
    // The ESP's data is the last file data in the image, after files that sort after it.
    const lba = iso.boot!.sections[0]!.loadRba;
    const other = sh(`isoinfo -R -l -i ${q(path)} | grep zzz-after`).toString();
    expect(Number(/\[\s*(\d+) 00\]/.exec(other)![1])).toBeLessThan(lba);
    expect(bytes.subarray(lba * 2048, lba * 2048 + esp.length).equals(esp)).toBe(true);
  });

  it("a hybrid gets partition 1 (type 0, the whole image) and partition 2 (type 0xEF, the ESP)", async () => {
    const { path, bytes, esp } = await uefiIso(true);
    const area = sh(`xorriso -indev ${q(path)} -report_system_area plain 2>&1`).toString();
    expect(area).toMatch(/MBR partition\s+:\s+1\s+0x80\s+0x00\s+0\s+\d+/);
    const lba = (await readIso(bufferSource(bytes))).boot!.sections[0]!.loadRba;
    expect(area).toMatch(new RegExp(`MBR partition\\s+:\\s+2\\s+0x00\\s+0xef\\s+${lba * 4}\\s+${esp.length / 512}`));
    expect(area).toMatch(/MBR partition path :\s+2\s+\/efi\.img/);
    expect(hasEspPartition(bytes.subarray(0, 512))).toBe(true);
    // The FAT inside the partition is what mtools reads through the partition table.
    expect(sh(`MTOOLS_SKIP_CHECK=1 mdir -i ${q(path)}@@${lba * 2048} ::/EFI/BOOT`).toString()).toMatch(
      /BOOTX64\s+EFI\s+140891/,
    );
  });

  it("a file stored inside the ESP is written once; isoinfo and mtools read the same bytes", async () => {
    const kernel = Buffer.alloc(10_000, 0x4b);
    const img = fatImage([file("EFI/BOOT/BOOTX64.EFI", Buffer.alloc(3000, 1)), file("boot/vmlinuz", kernel)], {
      serial: 7,
      epoch: EPOCH,
      alignFiles: 2048,
    });
    const esp = await bytesOf(img.stream());
    const offset = img.fileOffsets.get("boot/vmlinuz")!;
    expect(offset % 2048).toBe(0);
    const entries = [
      file("boot/isolinux/isolinux.bin", readFileSync("/usr/lib/ISOLINUX/isolinux.bin")),
      file("efi.img", esp),
      file("boot/vmlinuz", kernel),
    ];
    const write = (within: Map<string, { host: string; offset: number }>) =>
      bytesOf(
        writeIso(entries, {
          epoch: EPOCH,
          boot: {
            imagePath: "boot/isolinux/isolinux.bin",
            catalogPath: "boot/isolinux/boot.cat",
            efiImagePath: "efi.img",
          },
          within,
        }),
      );
    const shared = await write(new Map([["boot/vmlinuz", { host: "efi.img", offset }]]));
    const copied = await write(new Map());
    expect(copied.length - shared.length).toBe(Math.ceil(kernel.length / 2048) * 2048);
    const path = join(dir, "shared.iso");
    writeFileSync(path, shared);
    expect(sh(`isoinfo -R -i ${q(path)} -x /boot/vmlinuz`).equals(kernel)).toBe(true);
    const lba = (await readIso(bufferSource(shared))).boot!.sections[0]!.loadRba;
    expect(sh(`MTOOLS_SKIP_CHECK=1 mtype -i ${q(path)}@@${lba * 2048} ::/boot/vmlinuz`).equals(kernel)).toBe(true);
    await expect(write(new Map([["boot/vmlinuz", { host: "efi.img", offset: offset + 512 }]]))).rejects.toThrow(
      /'boot\/vmlinuz' cannot share the data of 'efi.img'/,
    );
    await expect(write(new Map([["boot/vmlinuz", { host: "efi.img", offset: esp.length - 2048 }]]))).rejects.toThrow(
      /would end past the data of 'efi.img'/,
    );
  });

  it("an ESP too large for the entry's 16-bit count is given as 0, which firmware reads as 'to the end'", () => {
    expect(sectionSectorCount(2048)).toBe(4);
    expect(sectionSectorCount(65535 * 512)).toBe(65535);
    expect(sectionSectorCount(65535 * 512 + 1)).toBe(0);
  });
});

describe("El Torito catalog reader, hostile sections", () => {
  const base = { platform: 0, mediaType: 0, loadSegment: 0, systemType: 0, sectorCount: 4, loadRba: 30 };

  it("section headers that claim more entries than the sector holds end at the sector", () => {
    const b = encodeCatalog(base, [{ platform: 0xef, sectorCount: 8, loadRba: 40 }]);
    b[64] = 0x90; // "more headers follow"
    b.writeUInt16LE(0xffff, 66); // 65535 entries
    for (let at = 128; at < 2048; at += 32) b[at] = 0x88;
    const got = decodeCatalog(b, 20);
    expect(got.sections.length).toBeLessThan(64);
  });

  it("a catalog without sections has none; a truncated one is refused", () => {
    expect(decodeCatalog(encodeCatalog(base), 20).sections).toEqual([]);
    expect(() => decodeCatalog(Buffer.alloc(40), 20)).toThrow(/truncated/);
  });
});
