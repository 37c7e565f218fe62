// Streaming gunzip of every member, with a ceiling checked as bytes come out: a
// decompression bomb is refused once it passes the ceiling, never allocated whole. Output
// up to 8 MiB stays in memory; more goes to a temporary file read in place.
import { createGunzip } from "node:zlib";
import { FormatError } from "../../errors.js";
import { drained } from "../../io/drained.js";
import { spill } from "../../io/spill.js";
import type { ByteSource } from "../../io/byte-source.js";
import { DEFAULT_LIMITS, type ReadLimits } from "../limits.js";
import { isGzip } from "./member.js";

const READ = 1024 * 1024;

/**
 * How much `compressed` bytes of gzip may expand to: real archives (initrds, tar.gz) stay far
 * below 64:1; a bomb does not. Checked against the input fed so far, so a bomb is stopped
 * near the 256 MiB floor rather than at 64 times its whole size. Never more than the
 * container limit.
 */
const gunzipCeiling = (compressed: number, limits: ReadLimits = DEFAULT_LIMITS): number =>
  Math.min(limits.bytes, Math.max(256 * 1024 * 1024, 64 * compressed));

/** The decompressed bytes of `src`, as a source: in memory when small, else a temporary file. */
export async function gunzipSource(
  src: ByteSource,
  opts: { label?: string; limits?: ReadLimits } = {},
): Promise<ByteSource> {
  if (!isGzip(src.read(0, 3))) throw new FormatError("gzip", "not gzip data (bad magic)");
  let fed = 0;
  const gunzip = createGunzip({ chunkSize: 256 * 1024 });
  const out = spill(opts.label ?? "gunzip");
  let total = 0;
  let failure: Error | undefined;
  gunzip.on("data", (c: Buffer) => {
    total += c.length;
    const ceiling = gunzipCeiling(fed, opts.limits);
    if (total > ceiling) {
      failure ??= new FormatError(
        "gzip",
        `decompresses to more than ${ceiling} bytes from its first ${fed} (of ${src.size}): a decompression bomb, or an archive beyond the limit`,
      );
      gunzip.destroy();
      return;
    }
    out.write(c);
  });
  const done = new Promise<void>((resolve, reject) => {
    gunzip.on("end", resolve);
    gunzip.on("close", resolve);
    gunzip.on("error", (e: NodeJS.ErrnoException) => {
      const reason = e.code === "Z_BUF_ERROR" ? "truncated (unexpected end of data)" : `corrupt data (${e.message})`;
      reject(failure ?? new FormatError("gzip", reason));
    });
  });
  try {
    for (let at = 0; at < src.size && !gunzip.destroyed; at += READ) {
      const chunk = src.read(at, Math.min(READ, src.size - at));
      fed += chunk.length;
      if (!gunzip.write(chunk)) await drained(gunzip);
    }
    if (!gunzip.destroyed) gunzip.end();
    await done;
    if (failure) throw failure;
    if (gunzip.bytesWritten < src.size && !isPadding(src, gunzip.bytesWritten)) {
      throw new FormatError("gzip", `${src.size - gunzip.bytesWritten} bytes after the last member are not gzip data`);
    }
  } finally {
    out.close();
  }
  return out.source();
}

/** NUL padding after the last member, as initrds often have. */
function isPadding(src: ByteSource, from: number): boolean {
  for (let at = from; at < src.size; at += READ) if (src.read(at, READ).some((b) => b !== 0)) return false;
  return true;
}
