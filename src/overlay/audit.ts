// The prod audit: the image may hold no remote-login daemon and no way to log in. It runs on
// the image as it will boot (the base initrd with every overlay, file and extension merged),
// never on the parts that made it, so nothing can be walked around it:
// - no live-update receiver of mkbundle dev (opt/mkbundle/dev), which takes files into a running guest,
//   and no exec agent (opt/mkbundle/exec), which runs commands sent to a serial port;
// - every path of the image, and every file of every .tcz anywhere in it, listed in the lock
//   or not (builtin ones are loaded at boot, the image's mirror installs the rest), for sshd,
//   dropbear and telnet daemons under any name;
// - every onboot.lst: each name it lists must be an extension the image holds;
// - /etc/passwd, /etc/shadow and /etc/inittab as the kernel would open them, symlinks and hard
//   links followed inside the image (a link out of it is refused: the audit cannot see it);
// - every inittab action (respawn, askfirst, wait, once, sysinit, ctrlaltdel, ...) that starts
//   a shell, `login -f`, an autologin, or a getty that skips the login (-n, -l).
// The bundle stage runs it, and rebuild-iso runs it again on the bundle it is given.
import { posix } from "node:path";
import type { ReadLimits } from "../formats/limits.js";
import { extensionFiles } from "../tinycore/extension-files.js";
import { INITTAB, PASSWD, SHADOW } from "../tinycore/accounts.js";
import { BUILTIN_OPTIONAL, DEV_RECEIVER, EXEC_AGENT, ONBOOT_NAME } from "../tinycore/layout.js";
import { openContent, printable, readSmallText, type Entry } from "../tree/entry.js";
import type { FileTree } from "../tree/file-tree.js";
import { followLinks, symlinkAbove } from "../tree/links.js";

/** sshd (and sshd.real, sshd-session), dropbear (and its multi-call binary), telnetd, utelnetd, in.telnetd. */
const RECEIVER_DIR = posix.dirname(DEV_RECEIVER);
const AGENT_DIR = posix.dirname(EXEC_AGENT);
const DAEMON = /(^|\/)([^/]*sshd[^/]*|dropbear[^/]*|(in\.)?u?telnetd)$/;

/** A password field that lets someone log in: empty, or anything but a lock marker. */
const usableHash = (field: string): boolean => !(field === "*" || field.startsWith("!") || field === "x");

export interface AuditOptions {
  limits: ReadLimits;
  /** Who asked for each extension (the lock's requiredBy), for messages. */
  requiredBy?: ReadonlyMap<string, readonly string[]>;
}

const roleOf = (path: string): string =>
  path.startsWith(`${BUILTIN_OPTIONAL}/`)
    ? "builtin extension"
    : /(^|\/)tcz\//.test(path)
      ? "mirror extension"
      : "extension";

export async function auditImage(tree: FileTree, o: AuditOptions): Promise<string[]> {
  const problems: string[] = [];
  const say = (m: string) => problems.push(`prod audit: ${m}`);
  const get = (p: string) => tree.get(p);

  for (const e of tree.values()) {
    if (DAEMON.test(e.path) && e.type !== "dir") say(`${printable(e.path)} is a remote-login daemon`);
    if (e.path === RECEIVER_DIR || e.path.startsWith(`${RECEIVER_DIR}/`))
      say(
        `${printable(e.path)} is mkbundle dev's live-update channel: it belongs only in the images mkbundle dev boots`,
      );
    if (e.path === AGENT_DIR || e.path.startsWith(`${AGENT_DIR}/`))
      say(`${printable(e.path)} is mkbundle exec's agent (commands run from a serial port): dev and debug images only`);
  }

  // tce-load links each builtin's files into place at boot: never through a symlink that the
  // image or another builtin planted.
  const links = new Map<string, string>();
  for (const e of tree.values()) if (e.type === "symlink") links.set(e.path, "the image");
  const extensions: { path: string; name: string; entries: Entry[] }[] = [];
  for (const e of [...tree.values()].filter((x) => x.path.endsWith(".tcz"))) {
    const r = followLinks(get, e.path);
    if (!("found" in r) || r.found.type !== "file") continue; // not a file: tce-load cannot load it
    const name = e.path
      .split("/")
      .pop()!
      .replace(/\.tcz$/, "");
    extensions.push({ path: e.path, name, entries: await extensionFiles(name, openContent(r.found), o.limits) });
  }
  for (const x of extensions)
    if (x.path.startsWith(`${BUILTIN_OPTIONAL}/`))
      for (const e of x.entries)
        if (e.type === "symlink" && !links.has(e.path)) links.set(e.path, `builtin ${x.name}.tcz`);
  for (const x of extensions) {
    const role = roleOf(x.path);
    const why = o.requiredBy?.get(x.name)?.length ? ` (required by ${o.requiredBy.get(x.name)!.join(", ")})` : "";
    for (const e of x.entries) {
      if (DAEMON.test(e.path) && e.type !== "dir")
        say(`${role} ${x.name}.tcz holds ${printable(e.path)}, a remote-login daemon${why}`);
      const link =
        role === "builtin extension" && e.type !== "dir"
          ? symlinkAbove(e.path, (p) => (links.has(p) ? ({ type: "symlink" } as Entry) : undefined))
          : undefined;
      if (link)
        say(
          `builtin ${x.name}.tcz puts ${printable(e.path)} under ${link}, a symlink from ${links.get(link)}: loading it would write wherever the link points`,
        );
    }
  }

  for (const e of [...tree.values()].filter((x) => x.path === ONBOOT_NAME || x.path.endsWith(`/${ONBOOT_NAME}`))) {
    const text = await fileText(tree, e.path, say);
    const dir = e.path.slice(0, -ONBOOT_NAME.length);
    for (const line of (text ?? "")
      .split("\n")
      .map((l) => l.trim())
      .filter(Boolean)) {
      const tcz = `${dir}optional/${line.endsWith(".tcz") ? line : `${line}.tcz`}`;
      if (!tree.has(tcz))
        say(
          `/${e.path} loads ${printable(line)}, which the image does not hold (it would come from wherever the tce directory is at boot)`,
        );
    }
  }

  for (const file of [SHADOW, PASSWD]) {
    for (const line of ((await fileText(tree, file, say)) ?? "").split("\n")) {
      const [user, field] = line.split(":");
      if (user && field !== undefined && usableHash(field))
        say(`user ${user} can log in with ${field === "" ? "an empty password" : "a password"} (/${file})`);
    }
  }
  for (const line of ((await fileText(tree, INITTAB, say)) ?? "").split("\n")) {
    if (!line.trim() || line.trim().startsWith("#")) continue;
    const [id, , action, ...rest] = line.split(":");
    const command = rest.join(":");
    if (!command.trim()) continue;
    const how = unauthenticated(command);
    if (how)
      say(
        `/etc/inittab ${id || "(no id)"}: '${printable(command.trim())}' logs in without a password (${how}, ${action})`,
      );
  }
  return problems;
}

/**
 * A text file of the image as it would be opened at `path`, links followed inside the image;
 * undefined when there is none. A link that leaves what the image holds is a problem: what
 * it would say at boot cannot be audited.
 */
async function fileText(tree: FileTree, path: string, say: (m: string) => void): Promise<string | undefined> {
  const e = tree.get(path);
  if (!e) return undefined;
  const r = followLinks((p) => tree.get(p), path);
  if ("found" in r) return r.found.type === "file" ? readSmallText(r.found) : undefined;
  if ("loop" in r) say(`/${path} is a loop of symbolic links: what it says at boot cannot be audited`);
  else
    say(
      `/${path} leads to /${printable("missing" in r ? r.missing : r.hardLinkTo)}, which the image does not hold: what it says at boot cannot be audited`,
    );
  return undefined;
}

/** Programs that run the next word as the command (busybox runs its applet). */
const WRAPPERS = new Set(["exec", "env", "setsid", "nohup", "cttyhack", "busybox", "nice", "chroot"]);
const GETTY = /getty$/;
const SHELL = /sh$/;

/**
 * How an inittab process lets someone in without a password, or undefined: a shell with no
 * script to run, `login -f`, an autologin program, a getty told to skip the login (-n) or run
 * another program (-l, --autologin).
 */
export function unauthenticated(command: string): string | undefined {
  const words = command.trim().split(/\s+/);
  let i = 0;
  // "-/bin/sh": busybox init's login-shell marker.
  const base = (w: string) => w.replace(/^-/, "").split("/").pop()!;
  while (i < words.length && (WRAPPERS.has(base(words[i]!)) || /^\w+=/.test(words[i]!))) {
    if (base(words[i]!) === "chroot") i++; // its directory
    i++;
  }
  const program = base(words[i] ?? "");
  const args = words.slice(i + 1);
  if (program === "autologin" || /autologin/.test(command)) return "an autologin";
  if (program === "login" && args.some((a) => /^-[a-z]*f/.test(a))) return "login -f";
  if (
    GETTY.test(program) &&
    args.some((a) => /^-[a-zA-Z]*[nl]/.test(a) || a.startsWith("--autologin") || a === "--skip-login")
  )
    return "a getty that skips the login";
  if (SHELL.test(program)) {
    // A script to run (sh /etc/rc, sh -c '...') is not a shell on a terminal.
    const script = args.some((a) => a === "-c" || /^-[a-z]*c$/.test(a)) || args.some((a) => !a.startsWith("-"));
    if (!script) return "a shell on the console";
  }
  return undefined;
}
