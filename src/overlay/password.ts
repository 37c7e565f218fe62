// tc's field in /etc/shadow, decided once per build from the password the configuration
// resolved (config/password.ts): "*" (locked), the manifest's hash, or a sha512-crypt hash of
// the password. It is also what tells an unchanged build that the password did not change,
// without keeping anything derived from the password but the hash the image holds anyway.
import { createHash, randomBytes } from "node:crypto";
import { encrypt } from "unixcrypt";
import type { Log } from "../log.js";
import { flavourPolicy } from "../manifest/flavour.js";
import type { ResolvedManifest } from "../manifest/types.js";

type TcSecret = { hash: string } | { clear: string };

export interface TcPassword {
  secret?: TcSecret;
  /** Why the manifest's password could not be had (a variable not set, a file missing or empty). */
  problem?: string;
  /** MK_BUNDLE_TC_PASSWD is set: a prod build says it is ignored. */
  fromRazorVariable: boolean;
}

const SALT_CHARS = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/**
 * sha512-crypt of the tc password. The previous build's hash is kept when the password still
 * verifies against it, so identical builds stay byte-identical; otherwise the salt is random,
 * or, when SOURCE_DATE_EPOCH asks for reproducibility, derived from the image's name, flavour
 * and epoch. Never from the password: a salt derived from it would let anyone who reads
 * /etc/shadow test guesses at the speed of one SHA-256 instead of sha512-crypt.
 */
function hashPassword(clear: string, previous: string | undefined, reproducible: boolean, seed: string): string {
  if (previous?.startsWith("$6$") && encrypt(clear, previous) === previous) return previous;
  const bytes = reproducible ? createHash("sha256").update(`mkbundle salt\0${seed}`).digest() : randomBytes(16);
  const salt = [...bytes.subarray(0, 16)].map((b) => SALT_CHARS[b % 64]).join("");
  return encrypt(clear, `$6$${salt}`);
}

/** tc's shadow field, or why the password it needs cannot be had (reported with the build's other problems). */
export type TcField = string | { problem: string };

/**
 * tc's shadow field for `manifest`: the previous build's hash when the password still
 * verifies against it. A password that cannot be had is a problem for dev and debug.
 */
export function tcShadowField(
  manifest: ResolvedManifest,
  password: TcPassword,
  o: { previous?: string | undefined; reproducible: boolean; log: Log },
): TcField {
  if (flavourPolicy(manifest.flavour).tcLocked) {
    // The manifest's password: was warned about where it is written (validation); only the
    // environment's would otherwise go unmentioned.
    if (!manifest.password && password.fromRazorVariable)
      o.log.warn("a tc password cannot be set for a prod image; MK_BUNDLE_TC_PASSWD is ignored (tc is locked)");
    return "*";
  }
  if (password.problem) return { problem: password.problem };
  const secret = password.secret;
  if (!secret) {
    o.log.warn(
      `no tc password for a ${manifest.flavour} image: tc is locked${flavourPolicy(manifest.flavour).consoleAutologin ? " (console autologin still works)" : ""}; set password: in the manifest or MK_BUNDLE_TC_PASSWD`,
    );
    return "*";
  }
  if ("hash" in secret) return secret.hash;
  return hashPassword(
    secret.clear,
    o.previous,
    o.reproducible,
    `${manifest.name}\0${manifest.flavour}\0${manifest.epoch}`,
  );
}
