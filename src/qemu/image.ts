// What to boot, decided before QEMU starts, so that a wrong file fails at once: an ISO
// (through its isolinux), or its kernel and initrds directly (--kernel, or --append, which
// isolinux cannot take). Also whether the kernel will write to the serial console at all.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDirectory } from "../io/temp.js";
import { MkError } from "../errors.js";
import { fileSource } from "../io/byte-source.js";
import { PLATFORM_EFI } from "../formats/iso9660/el-torito.js";
import { hasEspPartition, hasHybridMbr, LINUX_PARTITION, mbrPartitions } from "../formats/iso9660/hybrid.js";
import { isIso9660 } from "../formats/iso9660/reader.js";
import { openBaseImage } from "../tinycore/base-image.js";
import { bootLine } from "../tinycore/boot-line.js";
import type { ReadLimits } from "../formats/limits.js";

export interface BootPlan {
  iso: string;
  /**
   * Boot the ISO as a raw disk (its isohybrid MBR) rather than a CD: "scratch" writes go to a
   * temporary overlay; "kept" writes stay in the file (a disk image with a data partition).
   */
  disk?: "scratch" | "kept";
  /** Boot under UEFI with this firmware (OVMF) rather than a BIOS. */
  firmware?: string;
  /** Secure Boot: the guest's copy of the firmware variables (keys enrolled). */
  secureVars?: string;
  /** Direct kernel boot: the ISO's kernel and its initrds concatenated (in `dir`, a temporary directory, when extracted). */
  kernel?: { dir?: string; kernel: string; initrd: string; append: string };
  /** The kernel command line the guest will see (for ISO boots: the default label's). */
  bootLine: string[];
  /** True when the boot line sends the kernel's console to the first serial port. */
  serial: boolean;
  /** A data partition (persist:) attached as a second disk, written in place. */
  data?: string;
}

export const hasSerialConsole = (codes: readonly string[]): boolean => codes.some((c) => /^console=ttyS0(,|$)/.test(c));

export async function planBoot(
  image: string,
  opts: { kernel?: boolean; disk?: boolean; firmware?: string; append: readonly string[]; limits: ReadLimits },
): Promise<BootPlan> {
  let src;
  try {
    src = fileSource(image);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new MkError("usage", code === "ENOENT" ? "image not found" : `cannot read the image (${code})`, {
      file: image,
    });
  }
  try {
    if (!isIso9660(src.read(0, 32774)))
      throw new MkError("input", "not an ISO 9660 image", {
        file: image,
        hint: "mkbundle boots ISOs such as rebuild-iso writes them (and Tiny Core's own)",
      });
  } finally {
    src.close();
  }
  const base = await openBaseImage(image, opts.limits).catch((e: unknown) => {
    throw e instanceof MkError
      ? new MkError("input", `not a bootable Tiny Core ISO: ${e.diagnostics[0]!.message}`, { file: image })
      : e;
  });
  try {
    const label = bootLine(base.boot.label, []);
    const direct = opts.kernel || opts.append.length > 0;
    const firmware = opts.firmware ? { firmware: opts.firmware } : {};
    if (!direct && opts.firmware) {
      const why = opts.disk
        ? hasEspPartition(base.iso.systemArea)
          ? undefined
          : "no EFI System Partition in its partition table: it cannot boot as a disk under UEFI"
        : base.iso.boot?.sections.some((s) => s.platform === PLATFORM_EFI)
          ? undefined
          : "no UEFI El Torito entry: it cannot boot as a CD under UEFI";
      if (why)
        throw new MkError("input", `the ISO has ${why}`, {
          file: image,
          hint: "build it with boot.uefi in the manifest, boot it under BIOS (without --uefi), or its kernel directly with --kernel",
        });
      return {
        iso: image,
        ...(opts.disk ? { disk: diskMode(base.iso.systemArea) } : {}),
        ...firmware,
        bootLine: label,
        serial: hasSerialConsole(label),
      };
    }
    if (!direct) {
      if (opts.disk && !hasHybridMbr(base.iso.systemArea))
        throw new MkError("input", "the ISO has no isohybrid MBR: it cannot boot as a disk", {
          file: image,
          hint: "boot it as a CD (without --disk), or its kernel directly with --kernel",
        });
      if (!base.iso.boot)
        throw new MkError("input", "the ISO has no El Torito boot record: it cannot boot as a CD", {
          file: image,
          hint: "boot its kernel directly with --kernel",
        });
      return {
        iso: image,
        ...(opts.disk ? { disk: diskMode(base.iso.systemArea) } : {}),
        bootLine: label,
        serial: hasSerialConsole(label),
      };
    }
    const codes = bootLine(base.boot.label, opts.append);
    const dir = tempDirectory("run"); // removed on any exit, Ctrl-C and SIGTERM included
    const kernel = join(dir, "kernel");
    const initrd = join(dir, "initrd");
    writeFileSync(kernel, await base.kernel());
    writeFileSync(initrd, Buffer.concat(await base.initrdBytes())); // the kernel reads concatenated archives
    return {
      iso: image,
      ...firmware,
      kernel: { dir, kernel, initrd, append: codes.join(" ") },
      bootLine: codes,
      serial: hasSerialConsole(codes),
    };
  } finally {
    base.close();
  }
}

/** A disk image with a data partition (persist:) is booted read-write: its data is the point. */
const diskMode = (mbr: Buffer): "scratch" | "kept" =>
  mbrPartitions(mbr).some((p) => p.type === LINUX_PARTITION) ? "kept" : "scratch";
