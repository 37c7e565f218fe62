// ext2 (a persistent data partition) as a codec. The writer needs the file system's size.
import { reproducible } from "../../tree/reproducible.js";
import type { Codec } from "../codec.js";
import { isExt2, readExt2 } from "./reader.js";
import { ext2Image, type Ext2Image, type Ext2Options } from "./writer.js";

export const ext2: Codec<Ext2Options, Ext2Image> = {
  name: "ext2",
  detect: isExt2,
  read: (src, limits) => readExt2(src, limits),
  write: (entries, o) => ext2Image(reproducible(entries, o), o),
};
