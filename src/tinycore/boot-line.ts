// The kernel command line of an image: the boot label's own codes (its initrd= codes are the
// loader's business, not the kernel's), then each added code the label lacks. The ISO's
// isolinux label, PXE, UEFI's loader entry, the dev loop and direct QEMU boots all use this.
import type { BootLabel } from "./isolinux-cfg.js";

export function bootLine(label: Pick<BootLabel, "append">, added: readonly string[]): string[] {
  const own = label.append.filter((c) => !c.startsWith("initrd="));
  return [...own, ...added.filter((c) => !own.includes(c))];
}
