// Tiny Core's accounts and consoles: the tc user (uid 1001, the staff group), its lines in
// /etc/passwd and /etc/shadow, and the getty that tty1 runs from /etc/inittab (the stock
// initrd logs tc in there without a password).
export const SHADOW = "etc/shadow";
export const PASSWD = "etc/passwd";
export const INITTAB = "etc/inittab";

const TC_PASSWD = "tc:x:1001:50:Linux User,,,:/home/tc:/bin/sh";
/** tc's uid:gid (tc, staff), as files: and persist.seed spell an owner. */
export const TC_OWNER = TC_PASSWD.split(":").slice(2, 4).join(":");
const PLAIN_GETTY = "tty1::respawn:/sbin/getty 38400 tty1";
const AUTOLOGIN_GETTY = "tty1::respawn:/sbin/getty -nl /sbin/autologin 38400 tty1";

/** /etc/shadow with tc's password field set (a line added, dated `epoch`, when tc has none). */
export function withTcShadowField(shadow: string, field: string, epoch: number): string {
  const lines = shadow.split("\n").filter((l, i, a) => l || i < a.length - 1);
  let hasTc = false;
  const edited = lines.map((l) => {
    const f = l.split(":");
    if (f[0] !== "tc") return l;
    hasTc = true;
    f[1] = field;
    return f.join(":");
  });
  if (!hasTc) edited.push(`tc:${field}:${Math.floor(epoch / 86400)}:0:99999:7:::`);
  return edited.join("\n") + "\n";
}

/** /etc/passwd with tc added, or undefined when tc is there. */
export const withTcUser = (passwd: string): string | undefined =>
  /^tc:/m.test(passwd) ? undefined : `${passwd.replace(/\n?$/, "\n")}${TC_PASSWD}\n`.replace(/^\n/, "");

/** /etc/inittab with tty1's getty logging in with a password, or (autologin) without one. */
export function withTty1Getty(inittab: string, autologin: boolean): string {
  const getty = autologin ? AUTOLOGIN_GETTY : PLAIN_GETTY;
  const tab = inittab.split("\n");
  const at = tab.findIndex((l) => l.startsWith("tty1:"));
  if (at >= 0) tab[at] = getty;
  else tab.splice(tab.length && tab[tab.length - 1] === "" ? tab.length - 1 : tab.length, 0, getty);
  return tab.join("\n").replace(/\n?$/, "\n");
}
