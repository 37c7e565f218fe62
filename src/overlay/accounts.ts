// Flavours on the base's own /etc/shadow, /etc/passwd and /etc/inittab. The stock initrd
// gives tc an empty password and autologin on tty1: prod and dev remove both (prod locks
// tc, dev sets its password), debug keeps the console autologin.
import { flavourPolicy } from "../manifest/flavour.js";
import { INITTAB, PASSWD, SHADOW, withTcShadowField, withTcUser, withTty1Getty } from "../tinycore/accounts.js";
import { fileEntry, readSmallText, type Entry } from "../tree/entry.js";
import { followLinks } from "../tree/links.js";
import type { OverlayInput } from "./types.js";

/** The base's file at `path` as the system would open it: symlinks and hard links followed inside the initrd. */
async function baseText(input: OverlayInput, path: string): Promise<{ text: string; entry?: Entry }> {
  const r = followLinks((p) => input.base.get(p), path);
  const e = "found" in r ? r.found : undefined;
  return e?.type === "file" ? { text: await readSmallText(e), entry: e } : { text: "" };
}

const keep = (e: Entry | undefined, fallback: number) => [e?.mode ?? fallback, e?.uid ?? 0, e?.gid ?? 0] as const;

export async function accountEntries(input: OverlayInput): Promise<Entry[]> {
  const { manifest } = input;
  const tcField = typeof input.tcField === "string" ? input.tcField : "*"; // a problem: the build fails anyway
  const epoch = manifest.epoch;
  const out: Entry[] = [];
  const shadow = await baseText(input, SHADOW);
  const text = (s: string) => Buffer.from(s);
  out.push(
    fileEntry(SHADOW, text(withTcShadowField(shadow.text, tcField, epoch)), epoch, ...keep(shadow.entry, 0o640)),
  );
  const passwd = await baseText(input, PASSWD);
  const withTc = withTcUser(passwd.text);
  if (withTc !== undefined) out.push(fileEntry(PASSWD, text(withTc), epoch, ...keep(passwd.entry, 0o644)));
  const inittab = await baseText(input, INITTAB);
  const autologin = flavourPolicy(manifest.flavour).consoleAutologin;
  out.push(fileEntry(INITTAB, text(withTty1Getty(inittab.text, autologin)), epoch, ...keep(inittab.entry, 0o644)));
  return out;
}
