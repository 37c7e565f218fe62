// squashfs 4.0 (Tiny Core's .tcz) as a codec. The writer lays an image out on disk (its
// superblock is written last, once the tables are placed): write() streams that file.
import { createReadStream, rmSync } from "node:fs";
import { tempPath } from "../../io/temp.js";
import type { Codec, WrittenImage } from "../codec.js";
import { readSquashfs } from "./reader.js";
import { isSquashfs } from "./superblock.js";
import { writeSquashfsFile, type SquashfsOptions } from "./writer.js";

export const squashfs: Codec<SquashfsOptions> = {
  name: "squashfs",
  detect: isSquashfs,
  read: (src, limits) => readSquashfs(src, limits),
  write: (entries, o): WrittenImage => ({
    async *stream() {
      const path = tempPath("image.squashfs");
      try {
        await writeSquashfsFile(entries, path, o);
        for await (const chunk of createReadStream(path)) yield chunk as Buffer;
      } finally {
        rmSync(path, { force: true });
      }
    },
  }),
};
