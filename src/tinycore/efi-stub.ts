// Whether a Linux bzImage can be started by UEFI firmware: an EFI stub kernel is also a PE
// image ("MZ" at 0, "PE\0\0" where the DOS header's 0x3C points) for the machine type of its
// architecture. Tiny Core 4.x's 32-bit kernel is not; x86_64 distribution kernels are.
import { MkError } from "../errors.js";

const PE_MACHINES: Record<number, string> = { 0x8664: "x86_64", 0x14c: "x86" };

/** The PE machine of an EFI stub kernel ("x86_64"), or undefined when the kernel has no EFI stub. */
export function efiStubMachine(kernel: Buffer): string | undefined {
  if (kernel.length < 0x40 || kernel.toString("latin1", 0, 2) !== "MZ") return undefined;
  const pe = kernel.readUInt32LE(0x3c);
  if (pe + 6 > kernel.length || kernel.toString("latin1", pe, pe + 4) !== "PE\0\0") return undefined;
  return PE_MACHINES[kernel.readUInt16LE(pe + 4)] ?? `machine 0x${kernel.readUInt16LE(pe + 4).toString(16)}`;
}

/** boot.uefi needs an x86_64 EFI stub (systemd-bootx64.efi starts x86_64 images only): exit 2 naming the kernel otherwise. */
export function checkEfiStub(kernel: Buffer, path: string, base: string): void {
  const machine = efiStubMachine(kernel);
  if (machine === "x86_64") return;
  throw new MkError(
    "input",
    `boot.uefi: the kernel /${path} of ${base} ${machine ? `is an EFI image for ${machine}, not x86_64` : "has no EFI stub"}, so UEFI firmware cannot start it`,
    {
      hint: "UEFI boot needs an x86_64 kernel built with CONFIG_EFI_STUB (base.arch: x86_64, as CorePure64); remove boot.uefi to build a BIOS-only image",
    },
  );
}
