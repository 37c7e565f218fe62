// The SBOM beside the ISO (SPDX 2.3 JSON, bundle/sbom.ts): what the image holds, from the
// bundle's lock and overlay, named like the ISO.
import { join } from "node:path";
import { sbomOf } from "../../bundle/sbom.js";
import { sbomFileName } from "../../outdir/names.js";
import type { OutputMaker } from "../output.js";

export const sbomOutput: OutputMaker = async (p, write) => [
  await write(join(p.out, sbomFileName(p.name, p.flavour, p.version)), [
    Buffer.from(sbomOf({ ...p.bundle.json, version: p.version }, p.bundle.overlay, "spdx")),
  ]),
];
