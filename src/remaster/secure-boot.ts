// boot.uefi.sign: the EFI loader and the kernel signed for Secure Boot with the user's key
// (formats/pe/authenticode.ts), at remaster, never stored: the bundle records only that the
// manifest signs; the key and certificate are read where the build is run, from files named
// on the command line or next to the manifest, and never printed, copied or hashed into names.
import { createHash } from "node:crypto";
import { readKeyFile } from "../io/read-key-file.js";
import { signingKey, type SigningKey } from "../formats/pe/authenticode.js";

/** The key and certificate files (PEM), as paths. */
export interface SigningFiles {
  key: string;
  cert: string;
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
