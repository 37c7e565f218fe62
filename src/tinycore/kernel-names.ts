// -KERNEL extension names: scsi-KERNEL.tcz means scsi-<kernel release>.tcz, the name
// tce-load asks the mirror for (scsi-3.0.21-tinycore.tcz, scsi-6.1.2-tinycore64.tcz).
import { MkError } from "../errors.js";

const namesKernel = (name: string): boolean => name.includes("KERNEL");

export function expandKernel(name: string, kernelRelease: string | undefined): string {
  if (!namesKernel(name)) return name;
  if (!kernelRelease)
    throw new MkError("resolve", `'${name}' names -KERNEL but the kernel release is unknown`, {
      hint: "set kernel: in the manifest",
    });
  return name.replace(/-KERNEL$/, `-${kernelRelease}`).replace(/KERNEL/g, kernelRelease);
}
