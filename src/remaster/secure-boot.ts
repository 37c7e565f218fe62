// boot.uefi.sign: the EFI loader and the kernel signed for Secure Boot with the user's key
// (formats/pe/authenticode.ts), at remaster, never stored: the bundle records only that the
// manifest signs; the key and certificate are read where the build is run, from files named
// on the command line or next to the manifest, and never printed, copied or hashed into names.
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { createHash } from "node:crypto";
import { MkError, errnoReason } from "../errors.js";
import { signingKey, type SigningKey } from "../formats/pe/authenticode.js";

/** The key and certificate files (PEM), as paths. */
export interface SigningFiles {
  key: string;
  cert: string;
}

/** A key or a certificate is a few KiB; a file far larger is a mistake. */
const MAX_KEY_FILE = 1024 * 1024;

function readKeyFile(path: string, what: string): Buffer {
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

export function readSigningKey(files: SigningFiles): SigningKey {
  return signingKey(readKeyFile(files.key, "the signing key"), readKeyFile(files.cert, "the certificate"), files);
}

/** What the stage cache compares: a digest of both files (the key itself never leaves this process). */
export const signingIdentity = (files: SigningFiles): string =>
  createHash("sha256")
    .update(readKeyFile(files.key, "the signing key"))
    .update(readKeyFile(files.cert, "the certificate"))
    .digest("hex");
