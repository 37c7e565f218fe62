// The outputs table: every format rebuild-iso can write, by name. Adding a format (a UEFI
// ISO, a raw disk image) is one entry here and a module in outputs/; --format picks them.
import type { OutputMaker } from "./output.js";
import { isoOutput } from "./outputs/iso.js";
import { pxeOutput } from "./outputs/pxe.js";

export const OUTPUTS: Readonly<Record<string, OutputMaker>> = {
  iso: isoOutput,
  pxe: pxeOutput,
};
