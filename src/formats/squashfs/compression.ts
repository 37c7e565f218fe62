import { inflateSync } from "node:zlib";
import { FormatError } from "../../errors.js";
import { COMPRESSORS } from "./superblock.js";

/** Decompresses one block; output larger than `max` is corruption, never an allocation. */
export function decompressBlock(compression: number, data: Buffer, max: number, where: string): Buffer {
  if (compression !== 1)
    throw new FormatError(
      "squashfs",
      `unsupported compressor ${compression} (${COMPRESSORS[compression] ?? "unknown"}); only gzip is supported`,
    );
  try {
    return inflateSync(data, { maxOutputLength: max });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new FormatError(
      "squashfs",
      `${where}: ${code === "ERR_BUFFER_TOO_LARGE" ? `decompresses to more than ${max} bytes` : `corrupt compressed data (${(e as Error).message})`}`,
    );
  }
}
