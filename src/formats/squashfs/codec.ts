// squashfs 4.0 (Tiny Core's .tcz) as a codec. Reading only, for now.
import type { Codec } from "../codec.js";
import { readSquashfs } from "./reader.js";
import { isSquashfs } from "./superblock.js";

export const squashfs: Omit<Codec, "write"> = {
  name: "squashfs",
  detect: isSquashfs,
  read: (src, limits) => readSquashfs(src, limits),
};
