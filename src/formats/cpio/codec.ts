// newc (and crc) cpio as a codec: the initrd format.
import { reproducible } from "../../tree/reproducible.js";
import type { Codec, WriteOptions } from "../codec.js";
import { readCpio } from "./reader.js";
import { writeCpio, type CpioWriteOptions } from "./writer.js";
import { MAGIC_CRC, MAGIC_NEWC } from "./newc-header.js";

export const cpio: Codec<WriteOptions & CpioWriteOptions> = {
  name: "cpio",
  detect: (head) => [MAGIC_NEWC, MAGIC_CRC].includes(head.toString("latin1", 0, 6)),
  read: (src, limits) => readCpio(src, limits),
  write: (entries, o) => ({ stream: () => writeCpio(reproducible(entries, o), o) }),
};
