// ustar/pax tar as a codec: overlays, bundles and .gem files.
import { reproducible } from "../../tree/reproducible.js";
import type { Codec } from "../codec.js";
import { isTar } from "./header.js";
import { readTar } from "./reader.js";
import { writeTar } from "./writer.js";

export const tar: Codec = {
  name: "tar",
  detect: isTar,
  read: (src, limits) => readTar(src, limits),
  write: (entries, o) => ({ stream: () => writeTar(reproducible(entries, o)) }),
};
