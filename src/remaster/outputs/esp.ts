// The EFI System Partition image on its own (<iso name>-efi.img): for UEFI HTTP/PXE boot
// setups, or to write onto a partition. The same bytes the ISO carries as efi.img.
import { join } from "node:path";
import { MkError } from "../../errors.js";
import { borrowedPieces } from "../../io/byte-source.js";
import { espImage } from "../esp.js";
import { isoFileName } from "../../outdir/names.js";
import type { OutputMaker } from "../output.js";

export const espOutput: OutputMaker = async (p, write) => {
  const esp = espImage(p);
  if (!esp)
    throw new MkError("usage", "--format esp: the manifest has no boot.uefi, so there is no EFI System Partition", {
      hint: "add boot.uefi.loader to the manifest (see the README's UEFI section)",
    });
  const name = isoFileName(p.name, p.flavour, p.version).replace(/\.iso$/, "-efi.img");
  return [await write(join(p.out, name), borrowedPieces(esp.source(), Buffer.allocUnsafe(1 << 20)))];
};
