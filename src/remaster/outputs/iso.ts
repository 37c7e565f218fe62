// The ISO: the base's files with the new initrd(s), the edited isolinux.cfg and
// iso-metadata.yaml; El Torito and the isohybrid MBR kept from the base. With boot.uefi,
// also efi.img (esp.ts) as a second El Torito entry and, on a hybrid, a partition.
import { join } from "node:path";
import { MkError } from "../../errors.js";
import { hasHybridMbr } from "../../formats/iso9660/hybrid.js";
import { iso9660, iso9660Size } from "../../formats/iso9660/codec.js";
import type { IsoWriteOptions } from "../../formats/iso9660/writer.js";
import { fileEntry, fileFrom, type Entry } from "../../tree/entry.js";
import { packageVersion } from "../../io/package-version.js";
import { isoFileName } from "../../outdir/names.js";
import { ESP_PATH, espImage } from "../esp.js";
import type { WrittenImage } from "../../formats/codec.js";
import type { OutputMaker } from "../output.js";
import type { PreparedRemaster } from "../prepare.js";

export const isoOutput: OutputMaker = async (p, write) => [
  await write(join(p.out, isoFileName(p.name, p.flavour, p.version)), isoImage(p).stream()),
];

/** The ISO's bytes; on a disk image, with the MBR entry of the partition that follows it. */
export function isoImage(p: PreparedRemaster, appendedPartition?: { bytes: number; type: number }): WrittenImage {
  const { entries, options } = isoInput(p, appendedPartition);
  return iso9660.write(entries, options);
}

/** The ISO's size in bytes, from its layout: known before a byte is written. */
export function isoImageSize(p: PreparedRemaster): Promise<number> {
  const { entries, options } = isoInput(p);
  return iso9660Size(entries, options);
}

/** What the ISO is written from: its entries and the writer's options. */
function isoInput(
  p: PreparedRemaster,
  appendedPartition?: { bytes: number; type: number },
): { entries: Entry[]; options: IsoWriteOptions } {
  const { base, epoch } = p;
  const iso = base.iso;
  const m = p.bundle.json.manifest;
  // Base files stay as they are; changed and new ones carry the bundle's epoch.
  const cfgEntry = base.file(p.cfg.path)!;
  const replaced = new Map<string, Entry>([
    [p.cfg.path, fileEntry(p.cfg.path, Buffer.from(p.cfg.text), epoch, cfgEntry.mode, cfgEntry.uid, cfgEntry.gid)],
    ["iso-metadata.yaml", fileEntry("iso-metadata.yaml", Buffer.from(p.metadata), epoch)],
  ]);
  const built = p.initrds[p.initrds.length - 1]!; // the merged initrd, or the appended archive
  const previous = base.file(built.path);
  replaced.set(built.path, fileFrom(built.path, built.source, epoch, previous?.mode, previous?.uid, previous?.gid));
  // A base's own ESP would boot its old initrd: it is left out (and ours written when boot.uefi asks).
  const dropped = new Set([
    ...p.droppedInitrds,
    ...(iso.boot?.sections ?? []).flatMap((s) => (s.imagePath ? [s.imagePath] : [])),
  ]);
  const esp = espImage(p);
  if (esp) {
    replaced.set(ESP_PATH, fileFrom(ESP_PATH, esp.source(), epoch));
  }
  const entries = [...iso.entries.filter((e) => !replaced.has(e.path) && !dropped.has(e.path)), ...replaced.values()];
  const boot = iso.boot;
  if (!boot?.imagePath || !boot.catalogPath)
    throw new MkError("input", `the base ${p.bundle.json.base} has no El Torito boot image, so no ISO can boot`, {
      hint: p.bundle.json.lock.baseParts
        ? "add base.isolinux (isolinux.bin and ldlinux.c32) to the manifest, or write PXE files only: mkbundle rebuild-iso --format pxe"
        : "write PXE files only: mkbundle rebuild-iso --format pxe",
    });
  const options: IsoWriteOptions = {
    epoch,
    reuseBuffer: true, // write() hashes and writes each chunk before it asks for the next
    volume: {
      volumeId: m.boot.volume_id ?? iso.volume.volumeId,
      applicationId: "MKBUNDLE",
      preparerId: `MKBUNDLE ${packageVersion()}`,
    },
    boot: {
      imagePath: boot.imagePath,
      catalogPath: boot.catalogPath,
      loadSegment: boot.loadSegment,
      sectorCount: boot.sectorCount,
      platform: boot.platform,
      ...(esp ? { efiImagePath: ESP_PATH } : {}),
    },
    ...(hasHybridMbr(iso.systemArea) ? { hybridMbrCode: iso.systemArea } : {}),
    ...(appendedPartition ? { appendedPartition } : {}),
    // The kernel and initrds are written once, inside the ESP; their ISO records point there.
    ...(esp
      ? {
          within: new Map(
            [p.kernel.path, ...p.initrds.map((i) => i.path)].map((path) => [
              path,
              { host: ESP_PATH, offset: esp.fileOffsets.get(path)! },
            ]),
          ),
        }
      : {}),
  };
  return { entries, options };
}
