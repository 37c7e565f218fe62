// The EFI System Partition of a UEFI-bootable image: systemd-boot as the removable-media
// loader (EFI/BOOT/BOOTX64.EFI), its configuration, and the kernel and initrds it boots,
// at the paths they have on the ISO. UEFI firmware reads FAT, not ISO 9660, so the kernel
// and initrds live in the ESP; their files start on CD sectors, so the ISO's directory
// records point at those same bytes (outputs/iso.ts) and the image holds them once.
import { createHash } from "node:crypto";
import { fat } from "../formats/fat/codec.js";
import type { FatImage } from "../formats/fat/writer.js";
import { fileEntry, fileFrom, type Entry } from "../tree/entry.js";
import type { PreparedRemaster } from "./prepare.js";
import { parseIsolinuxCfg } from "../tinycore/isolinux-cfg.js";

/** The ESP's path on the ISO (what `mkbundle ls image.iso efi.img EFI/BOOT` opens). */
export const ESP_PATH = "efi.img";
const ESP_LOADER_PATH = "EFI/BOOT/BOOTX64.EFI";

/** Seconds systemd-boot shows its menu: boot.timeout, else the base's isolinux prompt (tenths, rounded up). */
export function menuSeconds(boot: { timeout?: number }, isolinuxCfg: string): number {
  if (boot.timeout !== undefined) return boot.timeout;
  const { prompt, timeout } = parseIsolinuxCfg(isolinuxCfg);
  return prompt && timeout ? Math.ceil(timeout / 10) : 0;
}

/** loader/loader.conf and the one loader entry: the same boot line as the isolinux label and PXE. */
export function systemdBootConfig(
  p: Pick<PreparedRemaster, "name" | "flavour" | "version" | "kernel" | "initrds" | "bootLine">,
  seconds: number,
): {
  loader: string;
  entryName: string;
  entry: string;
} {
  const entryName = `${p.name}.conf`;
  return {
    entryName,
    loader: [
      `timeout ${seconds}`,
      `default ${entryName}`,
      // The kernel command line is part of what prod ships: not editable at the menu there.
      `editor ${p.flavour === "prod" ? "no" : "yes"}`,
      "",
    ].join("\n"),
    entry: [
      `title ${p.name} ${p.version} (${p.flavour})`,
      `linux /${p.kernel.path}`,
      ...p.initrds.map((i) => `initrd /${i.path}`),
      `options ${p.bootLine.join(" ")}`,
      "",
    ].join("\n"),
  };
}

const digest = (b: Buffer) => createHash("sha256").update(b).digest("hex");

export function espImage(p: PreparedRemaster): FatImage | undefined {
  const loader = p.uefiLoader;
  if (!loader) return undefined;
  const t = p.epoch;
  const config = systemdBootConfig(p, menuSeconds(p.bundle.json.manifest.boot, p.cfg.text));
  const entries: Entry[] = [
    fileEntry(ESP_LOADER_PATH, loader, t),
    fileEntry("loader/loader.conf", Buffer.from(config.loader), t),
    fileEntry(`loader/entries/${config.entryName}`, Buffer.from(config.entry), t),
    fileEntry(p.kernel.path, p.kernel.bytes, t),
    ...p.initrds.map((i) => fileFrom(i.path, i.source, t)),
  ];
  // The serial follows the content, so the same inputs give the same image.
  const serial = createHash("sha256")
    .update(
      [config.loader, config.entry, ...p.initrds.map((i) => i.sha256), digest(loader), digest(p.kernel.bytes)].join(
        "\0",
      ),
    )
    .digest()
    .readUInt32LE(0);
  // Files on CD-sector boundaries: the ISO's own records for the kernel and initrds point into the ESP.
  return fat.write(entries, { label: "MKBUNDLE", serial, epoch: t, alignFiles: 2048 });
}
