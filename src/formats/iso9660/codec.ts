// ISO 9660 (Rock Ridge, Joliet, El Torito) as a codec. readIso gives the boot catalog and
// volume ids besides the entries; writeIso takes boot and hybrid options. A disk image's
// partitions after the ISO are listed as files at its root (partitionN.img).
import { reproducible } from "../../tree/reproducible.js";
import type { Codec } from "../codec.js";
import { sliceSource } from "../../io/byte-source.js";
import { fileFrom } from "../../tree/entry.js";
import { SECTOR } from "./descriptors.js";
import { appendedPartitions } from "./hybrid.js";
import { isIso9660, readIso } from "./reader.js";
import { isoSize, writeIso, type IsoWriteOptions } from "./writer.js";
import type { Entry } from "../../tree/entry.js";

export const iso9660: Codec<IsoWriteOptions> = {
  name: "iso9660",
  detect: isIso9660,
  read: async function* (src, limits) {
    const iso = await readIso(src, limits);
    yield* iso.entries;
    const root = iso.entries.find((e) => e.path === "");
    for (const p of appendedPartitions(iso.systemArea, iso.volumeSpaceSize * SECTOR, src.size))
      if (!iso.entries.some((e) => e.path === p.name))
        yield fileFrom(p.name, sliceSource(src, p.offset, p.bytes), root?.mtime ?? 0);
  },
  write: (entries, o) => ({ stream: () => writeIso(reproducible(entries, o), o) }),
};

/** The size iso9660.write would give these entries, from the layout alone (nothing read or written). */
export const iso9660Size = (entries: readonly Entry[], o: IsoWriteOptions): Promise<number> =>
  isoSize(reproducible(entries, o), o);
