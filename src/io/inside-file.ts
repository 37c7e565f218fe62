// A file that must lie inside a directory (a manifest's files: source), read as the file
// that was checked. Validation resolved the path once; between that check and the build a
// path component could be swapped for a symbolic link to /etc/shadow. So the file is pinned
// by identity (device and inode) when it is first opened and proven inside the directory,
// and every later read reopens it and refuses anything else.
import { closeSync, fstatSync, openSync, realpathSync, statSync, type Stats } from "node:fs";
import { isAbsolute, relative, resolve } from "node:path";
import { MkError, errnoReason } from "../errors.js";
import { readFullyAt, type ByteSource } from "./byte-source.js";

export function insideFileSource(dir: string, rel: string): ByteSource {
  const path = resolve(dir, rel);
  const refuse = (why: string) => new MkError("input", `${rel}: ${why}`, { file: path });
  const pinned = withFd(path, refuse, (fd) => {
    const st = fstatSync(fd);
    if (!st.isFile()) throw refuse("not a regular file");
    let real: string;
    try {
      real = relative(realpathSync(dir), realpathSync(path));
    } catch (e) {
      throw refuse(errnoReason(e));
    }
    if (real.startsWith("..") || isAbsolute(real)) throw refuse("resolves outside the manifest's directory");
    if (!sameFile(st, statSync(path))) throw refuse("was replaced while it was being checked");
    return st;
  });
  const size = pinned.size;
  const read = <T>(use: (fd: number) => T): T =>
    withFd(path, refuse, (fd) => {
      const st = fstatSync(fd);
      if (!sameFile(st, pinned) || st.size !== size)
        throw refuse("was replaced or changed during the build (it is no longer the file that was checked)");
      return use(fd);
    });
  return {
    size,
    read: (offset, length) =>
      read((fd) => {
        const out = Buffer.allocUnsafe(Math.max(0, Math.min(length, size - offset)));
        return out.subarray(0, readFullyAt(fd, size, out, offset));
      }),
    readInto: (target, offset) => read((fd) => readFullyAt(fd, size, target, offset)),
    close: () => {},
  };
}

const sameFile = (a: Stats, b: Stats): boolean => a.dev === b.dev && a.ino === b.ino;

function withFd<T>(path: string, refuse: (why: string) => MkError, use: (fd: number) => T): T {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (e) {
    throw refuse(errnoReason(e));
  }
  try {
    return use(fd);
  } finally {
    closeSync(fd);
  }
}
