// A file's identity as the file system reports it, with the sha256 we computed from it: a
// file whose stamp still matches need not be read again (git's index does the same). Used to
// decide that an unchanged build has nothing to do without re-reading large files.
import { statSync } from "node:fs";

export interface FileStamp {
  sha256: string;
  size: number;
  mtimeMs: number;
  ino: number;
}

export function stampOf(path: string, sha256: string): FileStamp {
  const st = statSync(path);
  return { sha256, size: st.size, mtimeMs: st.mtimeMs, ino: st.ino };
}

/** True when `path` is still the regular file the stamp describes. */
export function stillStamped(path: string, stamp: FileStamp | undefined): boolean {
  if (!stamp) return false;
  const st = statSync(path, { throwIfNoEntry: false });
  return !!st?.isFile() && st.size === stamp.size && st.mtimeMs === stamp.mtimeMs && st.ino === stamp.ino;
}
