// The outputs table: every format rebuild-iso can write, by name. Adding a format (a UEFI
// ISO, a raw disk image) is one entry here and a module in outputs/; --format picks them.
import type { OutputMaker } from "./output.js";
import { dataOutput, diskOutput } from "./outputs/data.js";
import { espOutput } from "./outputs/esp.js";
import { isoOutput } from "./outputs/iso.js";
import { pxeOutput } from "./outputs/pxe.js";
import { sbomOutput } from "./outputs/sbom.js";
import type { PreparedRemaster } from "./prepare.js";

export const OUTPUTS: Readonly<Record<string, OutputMaker>> = {
  iso: isoOutput,
  pxe: pxeOutput,
  sbom: sbomOutput,
  esp: espOutput,
  data: dataOutput,
  disk: diskOutput,
};

/** What rebuild-iso writes without --format: every format that applies, but the disk image (it repeats the ISO). */
export const defaultFormats = (
  p: Pick<PreparedRemaster, "uefiLoader" | "bundle">,
  outputs: Readonly<Record<string, OutputMaker>> = OUTPUTS,
): string[] =>
  Object.keys(outputs).filter(
    (f) => (f !== "esp" || p.uefiLoader) && (f !== "data" || p.bundle.json.manifest.persist) && f !== "disk",
  );
