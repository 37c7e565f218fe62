// ISO 9660 (Rock Ridge, Joliet, El Torito) as a codec. readIso gives the boot catalog and
// volume ids besides the entries; writeIso takes boot and hybrid options.
import { reproducible } from "../../tree/reproducible.js";
import type { Codec } from "../codec.js";
import { isIso9660, readIso } from "./reader.js";
import { writeIso, type IsoWriteOptions } from "./writer.js";

export const iso9660: Codec<IsoWriteOptions> = {
  name: "iso9660",
  detect: isIso9660,
  read: async function* (src, limits) {
    yield* (await readIso(src, limits)).entries;
  },
  write: (entries, o) => ({ stream: () => writeIso(reproducible(entries, o), o) }),
};
