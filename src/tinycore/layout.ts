// Where things live inside a Tiny Core image, and the one way mkbundle edits its boot
// script. Paths are Entry paths: relative to the root, no leading '/'.

/** Extensions baked into the initrd: tce-setup loads /tmp/builtin/optional/*.tcz listed in onboot.lst. */
export const BUILTIN_DIR = "tmp/builtin";
export const BUILTIN_OPTIONAL = `${BUILTIN_DIR}/optional`;
/** The list of extensions Tiny Core loads at boot, beside the extensions it names (in optional/). */
export const ONBOOT_NAME = "onboot.lst";
export const ONBOOT_LIST = `${BUILTIN_DIR}/${ONBOOT_NAME}`;

/** Razor's "mirror list": a local extension mirror inside the image. */
export const inImageMirror = (release: string, arch: string): string => `tmp/tinycorelinux/${release}/${arch}/tcz`;

/** Where an extension of a role lives in the image: builtin ones in /tmp/builtin/optional, the rest in the image's mirror. */
export const extensionDir = (role: "builtin" | "mirror", release: string, arch: string): string =>
  role === "builtin" ? BUILTIN_OPTIONAL : inImageMirror(release, arch);

/** NAME.tcz in `dir`, or one of the files beside it (.md5.txt, .dep, .info, .list). */
export const extensionPath = (
  dir: string,
  name: string,
  sibling: "" | ".md5.txt" | ".dep" | ".info" | ".list" = "",
): string => `${dir}/${name}.tcz${sibling}`;

export const GEM_MIRROR = "tmp/gem-mirror";

/** Started in the background by the stock /opt/bootsync.sh; mkbundle appends its services here. */
export const BOOTLOCAL = "opt/bootlocal.sh";
export const SERVICES_DIR = "opt/mkbundle/services";
/** mkbundle dev's live-update receiver: only in the images mkbundle dev boots. */
export const DEV_RECEIVER = "opt/mkbundle/dev/receiver.sh";
/** mkbundle exec's agent: only in dev and debug images. */
export const EXEC_AGENT = "opt/mkbundle/exec/agent.sh";
/** The largest command the agent takes, and output it answers with (bytes). */
export const MAX_EXEC_COMMAND = 64 * 1024;
export const MAX_EXEC_OUTPUT = 1024 * 1024;
/** Set-up of builtin extensions unpacked into the initrd, run before any service. */
export const BUILTIN_SETUP = "opt/mkbundle/builtin-setup.sh";
export const TCE_INSTALLED = "usr/local/tce.installed";
/** Tiny Core's staff group (gid 50): tce.installed markers and tc's primary group. */
export const STAFF_GID = 50;
/** Present when extensions brought kernel modules: tc-config then runs depmod. */
export const NEW_MODULES = "etc/sysconfig/newmodules";
export const MK_VERSION = "tmp/mk-version.yaml";

/** PATH when bootlocal.sh runs: busybox init's, with tc-config's /usr/local directories first. */
export const BOOT_PATH = ["usr/local/sbin", "usr/local/bin", "sbin", "usr/sbin", "bin", "usr/bin"];

/**
 * bootlocal.sh with lines added: `first` right after the shebang line (before anything
 * the base runs), `last` at the end under a comment.
 */
export function editBootlocal(
  original: string | undefined,
  edit: { first?: readonly string[]; last?: readonly string[]; comment?: string },
): string {
  const text = original ?? "#!/bin/sh\n";
  const [shebang, ...rest] = text.split("\n");
  let out = [shebang, ...(edit.first ?? []), ...rest].join("\n");
  if (edit.last?.length)
    out = `${out.endsWith("\n") ? out : `${out}\n`}${edit.comment ? `# ${edit.comment}\n` : ""}${edit.last.join("\n")}\n`;
  return out;
}
