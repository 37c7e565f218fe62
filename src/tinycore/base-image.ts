// The base ISO as every stage needs it, opened once: its files, the default label's
// kernel and initrds (from isolinux.cfg, never hard-coded), the initrd's files (every
// archive of every initrd, later ones on top) and the kernel release. Lock, remaster and
// qemu all read the base through here; each part is read on first use.
import { FormatError } from "../errors.js";
import { bufferSource, fileSource, type ByteSource } from "../io/byte-source.js";
import { cpio } from "../formats/cpio/codec.js";
import type { ReadLimits } from "../formats/limits.js";
import { gunzipSource } from "../formats/gzip/inflate.js";
import { isGzip } from "../formats/gzip/member.js";
import { readIso, type IsoImage } from "../formats/iso9660/reader.js";
import { openContent, readContent, type Entry } from "../tree/entry.js";
import { treeOf, type FileTree } from "../tree/file-tree.js";
import { findBootFiles, type BootFiles } from "./boot-files.js";
import { kernelFromBzImage, kernelFromInitrd } from "./kernel-release.js";

export interface KernelRelease {
  release: string;
  source: "initrd lib/modules" | "bzImage header";
}

export interface BaseImage {
  iso: IsoImage;
  boot: BootFiles;
  /** An ISO file by path (no leading '/'). */
  file(path: string): Entry | undefined;
  kernel(): Promise<Buffer>;
  /** Each initrd's bytes as on the ISO, in boot order. */
  initrdBytes(): Promise<Buffer[]>;
  /** What the booted system starts with: every archive of every initrd, later ones on top. */
  initrd(): Promise<FileTree>;
  /** lib/modules/<release> in the initrd, else the version in the kernel's bzImage header. */
  kernelRelease(): Promise<KernelRelease | undefined>;
  close(): void;
}

/** Opens a base ISO (a path, or bytes already in memory). */
export async function openBaseImage(from: string | Buffer | ByteSource, limits: ReadLimits): Promise<BaseImage> {
  const src = typeof from === "string" ? fileSource(from) : Buffer.isBuffer(from) ? bufferSource(from) : from;
  try {
    const iso = await readIso(src, limits);
    const byPath = new Map(iso.entries.map((e) => [e.path, e]));
    const boot = await findBootFiles(iso.entries);
    const once = <T>(load: () => Promise<T>): (() => Promise<T>) => {
      let p: Promise<T> | undefined;
      return () => (p ??= load());
    };
    const initrdBytes = once(async () => boot.initrds.map((p) => readContent(byPath.get(p)!)));
    // Each initrd is decompressed once, as a stream (to a temporary file when large); its
    // files' data stay there and are read when opened.
    const initrd = once(async () => {
      const entries: Entry[] = [];
      for (const path of boot.initrds) {
        const file = byPath.get(path)!;
        const raw = openContent(file);
        try {
          const archive = isGzip(raw.read(0, 3))
            ? await gunzipSource(raw, { label: path.split("/").pop()!, limits })
            : raw;
          for await (const e of cpio.read(archive, limits)) entries.push(e);
        } catch (e) {
          // Name the initrd: "boot/core.gz (gzip): decompresses to more than ...".
          if (e instanceof FormatError) throw new FormatError(`${path} (${e.format})`, e.detail);
          throw e;
        }
      }
      return treeOf(entries);
    });
    const kernel = once(async () => readContent(byPath.get(boot.kernel)!));
    const kernelRelease = once(async (): Promise<KernelRelease | undefined> => {
      const fromModules = kernelFromInitrd([...(await initrd()).values()]);
      if (fromModules) return { release: fromModules, source: "initrd lib/modules" };
      const fromHeader = kernelFromBzImage(await kernel());
      return fromHeader ? { release: fromHeader, source: "bzImage header" } : undefined;
    });
    return {
      iso,
      boot,
      file: (p) => byPath.get(p),
      kernel,
      initrdBytes,
      initrd,
      kernelRelease,
      close: () => src.close(),
    };
  } catch (e) {
    src.close();
    throw e;
  }
}
