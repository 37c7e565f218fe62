// tar reading through tar-stream: ustar, GNU and pax headers, each entry's data buffered.
import { Readable } from "node:stream";
import tarStream from "tar-stream";
import { FormatError, normalizeEntryPath, printable, type Entry, type EntryType } from "../../tree/entry.js";

const TYPES: Record<string, EntryType> = {
  file: "file",
  "contiguous-file": "file",
  directory: "dir",
  symlink: "symlink",
  link: "hardlink",
  "character-device": "char",
  "block-device": "block",
  fifo: "fifo",
};

/** ustar magic at offset 257 ("ustar\0" POSIX or "ustar " GNU). */
export const isTar = (b: Buffer): boolean => b.length >= 263 && b.toString("latin1", 257, 262) === "ustar";

export async function readTar(input: Buffer): Promise<Entry[]> {
  const extract = tarStream.extract();
  const entries: Entry[] = [];
  const done = new Promise<void>((resolve, reject) => {
    extract.on("entry", (h, stream, next) => {
      // tar-stream waits forever for data that a corrupt size promises; refuse it here.
      if ((h.size ?? 0) > input.length) {
        reject(new FormatError("tar", `'${printable(h.name)}' claims ${h.size} bytes in a ${input.length}-byte archive`));
        extract.destroy();
        return;
      }
      const chunks: Buffer[] = [];
      stream.on("data", (c: unknown) => chunks.push(c as Buffer));
      stream.on("error", reject);
      stream.on("end", () => {
        try {
          const type = TYPES[h.type ?? "file"];
          if (type) {
            const e: Entry = { path: normalizeEntryPath("tar", h.name), type, mode: (h.mode ?? 0) & 0o7777, uid: h.uid ?? 0, gid: h.gid ?? 0, mtime: Math.floor((h.mtime?.getTime() ?? 0) / 1000), size: 0 };
            if (type === "file") [e.data, e.size] = [Buffer.concat(chunks), h.size ?? 0];
            if (type === "symlink") e.linkTarget = h.linkname ?? "";
            if (type === "hardlink") e.linkTarget = normalizeEntryPath("tar", h.linkname ?? "");
            if (type === "char" || type === "block") [e.rdevMajor, e.rdevMinor] = [h.devmajor ?? 0, h.devminor ?? 0];
            entries.push(e);
          }
          next();
        } catch (err) {
          reject(err);
        }
      });
    });
    extract.on("finish", resolve);
    extract.on("error", (err: Error) => reject(err instanceof FormatError ? err : new FormatError("tar", `corrupt archive (${printable(err.message)})`)));
  });
  Readable.from([input]).pipe(extract);
  await done;
  return entries;
}
