// The prod audit: the image may hold no remote-login daemon and no way to log in. It looks at
// the final tree (base initrd, overlay, unpacked extensions), at every file of every builtin
// extension (loaded at boot) and of every extension in the image's mirror (installable
// later), at /etc/passwd, /etc/shadow and /etc/inittab. The bundle stage runs it, and
// rebuild-iso runs it again on the bundle it is given.
import { type Entry, readSmallText } from "../tree/entry.js";
import type { FileTree } from "../tree/file-tree.js";
import { INITTAB, PASSWD, SHADOW } from "../tinycore/accounts.js";

/** sshd, dropbear (and its multi-call binary), telnetd, and anything named like an sshd. */
const DAEMON = /(^|\/)([^/]*sshd[^/]*|dropbear[^/]*|u?telnetd)$/;
/** A getty that logs someone in without a password, or a shell on a terminal. */
const AUTOLOGIN = /autologin|(^|\s)-[a-zA-Z]*[nl][a-zA-Z]*(\s|$)|(^|[\s:/-])(ash|bash|sh)(\s|$)/;

/** A password field that lets someone log in: empty, or anything but a lock marker. */
const usableHash = (field: string): boolean => !(field === "*" || field.startsWith("!") || field === "x");

export interface AuditedExtension {
  name: string;
  /** builtin (loaded at boot) or mirror (in the image's local mirror). */
  role: string;
  requiredBy: string[];
  entries: readonly Entry[];
}

export async function auditProd(tree: FileTree, extensions: readonly AuditedExtension[]): Promise<string[]> {
  const problems: string[] = [];
  for (const e of tree.values()) {
    if (DAEMON.test(e.path) && e.type !== "dir") problems.push(`prod audit: ${e.path} is a remote-login daemon`);
  }
  // tce-load links each builtin's files into place at boot: never through a symlink that
  // the image or another builtin planted.
  const links = new Map<string, string>();
  for (const e of tree.values()) if (e.type === "symlink") links.set(e.path, "the image");
  for (const x of extensions.filter((x) => x.role === "builtin"))
    for (const e of x.entries)
      if (e.type === "symlink" && !links.has(e.path)) links.set(e.path, `builtin ${x.name}.tcz`);
  for (const x of extensions) {
    for (const e of x.entries) {
      if (DAEMON.test(e.path) && e.type !== "dir")
        problems.push(
          `prod audit: ${x.role} extension ${x.name}.tcz holds ${e.path}, a remote-login daemon (required by ${x.requiredBy.join(", ")})`,
        );
      const link =
        x.role === "builtin" && e.type !== "dir"
          ? symlinkAbove(e.path, (p) => (links.has(p) ? ({ type: "symlink" } as Entry) : undefined))
          : undefined;
      if (link)
        problems.push(
          `prod audit: builtin ${x.name}.tcz puts ${e.path} under ${link}, a symlink from ${links.get(link)}: loading it would write wherever the link points`,
        );
    }
  }
  const text = async (path: string) => {
    const e = tree.get(path);
    return e?.type === "file" ? await readSmallText(e) : "";
  };
  for (const file of [SHADOW, PASSWD]) {
    for (const line of (await text(file)).split("\n")) {
      const [user, field] = line.split(":");
      if (user && field !== undefined && usableHash(field))
        problems.push(
          `prod audit: user ${user} can log in with ${field === "" ? "an empty password" : "a password"} (/${file})`,
        );
    }
  }
  for (const line of (await text(INITTAB)).split("\n")) {
    const [id, , action, command] = line.split(":");
    if (!line.trim() || line.trim().startsWith("#") || !command) continue;
    if ((action === "respawn" || action === "askfirst" || action === "once") && AUTOLOGIN.test(command))
      problems.push(`prod audit: /etc/inittab ${id || "(no id)"}: '${command.trim()}' logs in without a password`);
  }
  return problems;
}

/**
 * The symlink among `path`'s parent directories, if any: a file put there would be written
 * wherever the link points (another extension's files, /etc).
 */
export function symlinkAbove(path: string, has: (p: string) => Entry | undefined): string | undefined {
  const parts = path.split("/");
  for (let i = 1; i < parts.length; i++) {
    const parent = parts.slice(0, i).join("/");
    if (has(parent)?.type === "symlink") return parent;
  }
  return undefined;
}
