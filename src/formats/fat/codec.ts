// FAT12/16/32 (an EFI System Partition) as a codec. fatImage also tells where each file lies.
import { reproducible } from "../../tree/reproducible.js";
import type { Codec } from "../codec.js";
import { isFat, readFat } from "./reader.js";
import { fatImage, type FatImage, type FatOptions } from "./writer.js";

export const fat: Codec<FatOptions, FatImage> = {
  name: "fat",
  detect: isFat,
  read: async function* (src, limits) {
    yield* (await readFat(src, limits)).entries;
  },
  write: (entries, o) => fatImage(reproducible(entries, o), o),
};
