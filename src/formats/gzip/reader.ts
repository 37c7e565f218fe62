// gzip reading: multi-member streams (concatenated initrds), NUL padding after the last member.
import { gunzipSync } from "node:zlib";
import { FormatError } from "../../errors.js";

export const isGzip = (b: Buffer): boolean => b.length >= 3 && b[0] === 0x1f && b[1] === 0x8b && b[2] === 8;

/** Default ceiling on decompressed size: protects against decompression bombs. */
const MAX_GUNZIP = 2 * 1024 ** 3 - 1;

export function gunzip(buf: Buffer, maxOutput = MAX_GUNZIP): Buffer {
  if (!isGzip(buf)) throw new FormatError("gzip", "not gzip data (bad magic)");
  try {
    return gunzipSync(buf, { maxOutputLength: maxOutput });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === "ERR_BUFFER_TOO_LARGE")
      throw new FormatError("gzip", `decompressed data exceeds ${maxOutput} bytes`);
    const reason = err.code === "Z_BUF_ERROR" ? "truncated (unexpected end of data)" : `corrupt data (${err.message})`;
    throw new FormatError("gzip", reason);
  }
}
