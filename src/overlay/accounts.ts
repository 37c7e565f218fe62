// Flavours on the base's own /etc/shadow, /etc/passwd and /etc/inittab. The stock initrd
// gives tc an empty password and autologin on tty1: prod and dev remove both (prod locks
// tc, dev sets its password), debug keeps the console autologin.
import { readTextFile } from "../manifest/text-file.js";
import { createHash, randomBytes } from "node:crypto";
import { resolve } from "node:path";
import { encrypt } from "unixcrypt";
import { fileEntry, type Entry, readSmallText } from "../tree/entry.js";
import type { OverlayInput } from "./types.js";

const PLAIN_GETTY = "tty1::respawn:/sbin/getty 38400 tty1";
const AUTOLOGIN_GETTY = "tty1::respawn:/sbin/getty -nl /sbin/autologin 38400 tty1";
const TC_PASSWD = "tc:x:1001:50:Linux User,,,:/home/tc:/bin/sh";
const SALT_CHARS = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** The tc password's source, in order: the manifest's password:, then MK_BUNDLE_TC_PASSWD. */
function tcPassword(input: PasswordInput, problems: string[]): { hash: string } | { clear: string } | undefined {
  const p = input.manifest.password;
  if (p && "hash" in p) return { hash: p.hash };
  if (p && "env" in p) {
    const v = input.env[p.env];
    if (v === undefined || v === "") problems.push(`password.env names ${p.env}, which is not set`);
    return v ? { clear: v } : undefined;
  }
  if (p && "file" in p) {
    const read = readTextFile(resolve(input.manifestDir, p.file), `password.file ${p.file}`, 4096);
    const v = read.text?.split(/\r?\n/)[0];
    if (read.problem) problems.push(read.problem.message);
    else if (!v) problems.push(`password.file ${p.file} is empty`);
    return v ? { clear: v } : undefined;
  }
  const env = input.env["MK_BUNDLE_TC_PASSWD"];
  return env ? { clear: env } : undefined;
}

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

async function baseText(input: OverlayInput, path: string): Promise<{ text: string; entry?: Entry }> {
  const e = input.base.get(path);
  return e?.type === "file" ? { text: await readSmallText(e), entry: e } : { text: "" };
}

const keep = (e: Entry | undefined, fallback: number) => [e?.mode ?? fallback, e?.uid ?? 0, e?.gid ?? 0] as const;

type PasswordInput = Pick<OverlayInput, "manifest" | "env" | "manifestDir" | "log" | "previousTcHash">;

/**
 * tc's field in /etc/shadow: "*" (locked), the manifest's hash, or a sha512-crypt hash of the
 * password (the previous build's when it still verifies). Also what tells an unchanged build
 * that the password did not change, without keeping anything derived from it.
 */
export function tcShadowField(input: PasswordInput, problems: string[]): string {
  const { manifest } = input;
  if (manifest.flavour === "prod") {
    // The manifest's password: was warned about where it is written (validation); only the
    // environment's would otherwise go unmentioned.
    if (!manifest.password && input.env["MK_BUNDLE_TC_PASSWD"])
      input.log.warn("a tc password cannot be set for a prod image; MK_BUNDLE_TC_PASSWD is ignored (tc is locked)");
    return "*";
  }
  const secret = tcPassword(input, problems);
  if (!secret) {
    input.log.warn(
      `no tc password for a ${manifest.flavour} image: tc is locked${manifest.flavour === "debug" ? " (console autologin still works)" : ""}; set password: in the manifest or MK_BUNDLE_TC_PASSWD`,
    );
    return "*";
  }
  if ("hash" in secret) return secret.hash;
  return hashPassword(
    secret.clear,
    input.previousTcHash,
    input.env["SOURCE_DATE_EPOCH"] !== undefined,
    `${manifest.name}\0${manifest.flavour}\0${manifest.epoch}`,
  );
}

export async function accountEntries(input: OverlayInput, problems: string[]): Promise<Entry[]> {
  const { manifest } = input;
  const epoch = manifest.epoch;
  const out: Entry[] = [];
  const tcField = tcShadowField(input, problems);

  const shadow = await baseText(input, "etc/shadow");
  const lines = shadow.text.split("\n").filter((l, i, a) => l || i < a.length - 1);
  let hasTc = false;
  const edited = lines.map((l) => {
    const f = l.split(":");
    if (f[0] !== "tc") return l;
    hasTc = true;
    f[1] = tcField;
    return f.join(":");
  });
  if (!hasTc) edited.push(`tc:${tcField}:${Math.floor(epoch / 86400)}:0:99999:7:::`);
  out.push(fileEntry("etc/shadow", Buffer.from(edited.join("\n") + "\n"), epoch, ...keep(shadow.entry, 0o640)));

  const passwd = await baseText(input, "etc/passwd");
  if (!/^tc:/m.test(passwd.text))
    out.push(
      fileEntry(
        "etc/passwd",
        Buffer.from(`${passwd.text.replace(/\n?$/, "\n")}${TC_PASSWD}\n`.replace(/^\n/, "")),
        epoch,
        ...keep(passwd.entry, 0o644),
      ),
    );

  const inittab = await baseText(input, "etc/inittab");
  const getty = manifest.flavour === "debug" ? AUTOLOGIN_GETTY : PLAIN_GETTY;
  const tab = inittab.text.split("\n");
  const at = tab.findIndex((l) => l.startsWith("tty1:"));
  if (at >= 0) tab[at] = getty;
  else tab.splice(tab.length && tab[tab.length - 1] === "" ? tab.length - 1 : tab.length, 0, getty);
  out.push(
    fileEntry("etc/inittab", Buffer.from(tab.join("\n").replace(/\n?$/, "\n")), epoch, ...keep(inittab.entry, 0o644)),
  );
  return out;
}
