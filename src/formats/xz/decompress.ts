// xz (a .deb's data.tar.xz, a .ko.xz module), decompressed by xz-embedded compiled to
// WebAssembly (npm xz-decompress: MIT, no dependencies, no native code). Fed from a
// ByteSource a piece at a time and bounded as gzip is: output past the ceiling is refused as
// it comes out, and it lands in memory or a temporary file (io/spill.ts).
import { FormatError } from "../../errors.js";
import type { ByteSource } from "../../io/byte-source.js";
import { spill } from "../../io/spill.js";
import { DEFAULT_LIMITS, type ReadLimits } from "../limits.js";

const MAGIC = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);
const READ = 1024 * 1024;

const isXz = (head: Buffer): boolean => head.length >= 6 && head.subarray(0, 6).equals(MAGIC);

/** As gunzip's: real archives stay far below 64:1; never more than the container limit. */
const ceiling = (compressed: number, limits: ReadLimits): number =>
  Math.min(limits.bytes, Math.max(256 * 1024 * 1024, 64 * compressed));

type XzStream = new (input: ReadableStream<Uint8Array>) => ReadableStream<Uint8Array>;

export async function xzSource(
  src: ByteSource,
  opts: { label?: string; limits?: ReadLimits } = {},
): Promise<ByteSource> {
  if (!isXz(src.read(0, 6))) throw new FormatError("xz", "not xz data (bad magic)");
  const limits = opts.limits ?? DEFAULT_LIMITS;
  // A CommonJS package (its exports are on default): loaded when an xz stream is met, never at startup.
  const xz = (await import("xz-decompress")) as unknown as { default: { XzReadableStream: XzStream } };
  const { XzReadableStream } = xz.default;
  let fed = 0;
  const input = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (fed >= src.size) return controller.close();
      const chunk = src.read(fed, Math.min(READ, src.size - fed));
      fed += chunk.length;
      controller.enqueue(chunk);
    },
  });
  const out = spill(opts.label ?? "xz");
  let total = 0;
  try {
    for await (const c of new XzReadableStream(input)) {
      total += c.length;
      const most = ceiling(fed, limits);
      if (total > most)
        throw new FormatError(
          "xz",
          `decompresses to more than ${most} bytes from its first ${fed} (of ${src.size}): a decompression bomb, or an archive beyond the limit`,
        );
      out.write(Buffer.from(c)); // a copy: the decoder may reuse its output buffer
    }
  } catch (e) {
    if (e instanceof FormatError) throw e;
    throw new FormatError("xz", `corrupt or truncated data (${e instanceof Error ? e.message : String(e)})`);
  } finally {
    out.close();
  }
  return out.source();
}
