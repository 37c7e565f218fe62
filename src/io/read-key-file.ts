// A key or certificate file (PEM): a few KiB, read whole, bounded. Its bytes are never put in
// a message: errors name the file and the reason only.
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { MkError, errnoReason } from "../errors.js";

const MAX_KEY_FILE = 1024 * 1024;

export function readKeyFile(path: string, what: string): Buffer {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (e) {
    throw new MkError("input", `${what} ${path}: ${errnoReason(e)}`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.size > MAX_KEY_FILE)
      throw new MkError("input", `${what} ${path} is not a regular file of at most 1 MiB`);
    const b = Buffer.alloc(st.size);
    let got = 0;
    while (got < b.length) {
      const n = readSync(fd, b, got, b.length - got, got);
      if (!n) break;
      got += n;
    }
    return b.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}
