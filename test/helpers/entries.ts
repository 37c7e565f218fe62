// Entries written by hand for the file-system writers' tests (squashfs, ext2): one maker per
// kind, every time a fixed distance before the test's epoch.
import { fileEntry, type Entry } from "../../src/tree/entry.js";

export function entryMakers(epoch: number) {
  const special = (path: string, type: Entry["type"], mode: number, more: Partial<Entry> = {}): Entry => ({
    path,
    type,
    mode,
    uid: 0,
    gid: 0,
    mtime: epoch - 1,
    size: 0,
    ...more,
  });
  return {
    d: (path: string, mode = 0o755, uid = 0, gid = 0): Entry => ({
      path,
      type: "dir",
      mode,
      uid,
      gid,
      mtime: epoch - 5,
      size: 0,
    }),
    f: (path: string, data: Buffer, mode = 0o644, uid = 0, gid = 0, mtime = epoch - 10) =>
      fileEntry(path, data, mtime, mode, uid, gid),
    link: (path: string, linkTarget: string): Entry =>
      special(path, "symlink", 0o777, { mtime: epoch - 3, linkTarget }),
    hard: (path: string, linkTarget: string, uid = 0, gid = 0): Entry =>
      special(path, "hardlink", 0o644, { uid, gid, mtime: epoch, linkTarget }),
    char: (path: string, rdevMajor: number, rdevMinor: number): Entry =>
      special(path, "char", 0o666, { rdevMajor, rdevMinor }),
    block: (path: string, rdevMajor: number, rdevMinor: number): Entry =>
      special(path, "block", 0o660, { gid: 6, rdevMajor, rdevMinor }),
    fifo: (path: string): Entry => special(path, "fifo", 0o600),
  };
}

/** Bytes that compress, differently for each seed. */
export const pattern = (n: number, seed: number): Buffer => {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed * 7 + (i >> 9)) & 0xff;
  return b;
};
