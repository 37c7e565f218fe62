// The manifest `mkbundle init` writes: small, valid, commented, for a Core (x86) or a
// CorePure64 (x86_64) base. Never over an existing one without force.
import { existsSync } from "node:fs";
import { basename, join, relative, resolve } from "node:path";
import { MkError } from "../errors.js";
import { ensureDir } from "../io/ensure-dir.js";
import { writeFileAtomic } from "../io/write-atomic.js";
import { schemaPath } from "./schema.js";

/** The file name `mkbundle init` writes in its directory. */
export const STARTER_FILE = "mkbundle.yaml";

/** What differs between a Core (x86) and a CorePure64 (x86_64) starter. */
function baseLines(arch: string, release: string): { base: string; builtin: string; uefi: string } {
  return arch === "x86_64"
    ? {
        uefi: `
  # uefi:                     # also boot UEFI machines (CD and USB): see the README's UEFI section
  #   loader: { url: /usr/lib/systemd/boot/efi/systemd-bootx64.efi, sha256: "<sha256sum of it>" }`,
        base: `base:
  release: ${release}               # Tiny Core series on the mirror
  arch: x86_64                # CorePure64: vmlinuz64 + corepure64.gz
  iso: CorePure64-current.iso # pin a file (CorePure64-${release.replace(".x", ".0")}.iso) and its sha256 for reproducible builds`,
        builtin: `  builtin: [dosfstools]       # loop-mounted at boot by Tiny Core; dependencies are resolved for you`,
      }
    : {
        base: `base:
  release: ${release}                # Tiny Core series on the mirror
  arch: x86                   # x86 | x86_64
  iso: Core-current.iso       # pin a file (${release === "4.x" ? "Core-4.4.iso" : `Core-${release.replace(".x", ".0")}.iso`}) and its sha256 for reproducible builds`,
        builtin: `  builtin: [bash]             # baked into the initrd and loaded at boot; dependencies are resolved for you`,
        uefi: "",
      };
}

function starterText(name: string, schema: string, o: { arch: string; release: string }): string {
  const { base, builtin, uefi } = baseLines(o.arch, o.release);
  return `# yaml-language-server: $schema=${schema}
# mkbundle manifest: one Tiny Core Linux image. Check it: mkbundle validate ${STARTER_FILE}
# See what will be built, with every default: mkbundle show ${STARTER_FILE}

name: ${name}                 # used in every output name
version: 0.1.0
flavour: dev                  # dev | prod (no ssh, no password, audited) | debug (console autologin)

${base}

# mirror: http://distro.ibiblio.org/tinycorelinux   # or a local directory; --mirror overrides

extensions:
${builtin}
  mirror: []                  # copied into the image's local extension mirror

files:
  - path: /etc/motd
    content: |
      Welcome to ${name}.
    mode: "0644"              # always a quoted octal string

# services:                   # started at boot from /opt/bootlocal.sh, in the background
#   - name: hello             # the build checks that its program is in the image
#     run: while true; do echo "hello from ${name}"; sleep 60; done
#     log: /dev/console

# password:                   # tc's password for dev/debug, never in clear text here
#   env: MK_TC_PASSWD

boot:
  append: [console=ttyS0]     # extra boot codes on the default isolinux label
  timeout: 5                  # seconds at the boot prompt${uefi}
`;
}

export interface StarterOptions {
  name?: string;
  force?: boolean;
  arch: string;
  release?: string;
}

function nameFrom(dir: string): string {
  const n = dir
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-+|-+$/g, "");
  return n || "microkernel";
}

/** Writes DIR/mkbundle.yaml; returns its path. */
export async function writeStarter(dir: string, opts: StarterOptions): Promise<string> {
  const target = join(dir, STARTER_FILE);
  if (existsSync(target) && !opts.force)
    throw new MkError("usage", "already exists", { file: target, hint: "use --force to overwrite it" });
  const name = opts.name ?? nameFrom(basename(resolve(dir)));
  if (!/^[a-z0-9][a-z0-9-]*$/.test(name))
    throw new MkError("usage", `'${name}' is not a valid image name`, {
      file: target,
      hint: "lower-case letters, digits and '-'; pass --name",
    });
  if (opts.arch !== "x86" && opts.arch !== "x86_64")
    throw new MkError("usage", `--arch '${opts.arch}' is not an architecture mkbundle builds`, {
      hint: "x86 or x86_64",
    });
  const release = opts.release ?? (opts.arch === "x86_64" ? "16.x" : "4.x");
  if (!/^[0-9]+\.x$/.test(release))
    throw new MkError("usage", `--release '${release}' is not a Tiny Core series`, { hint: "like 4.x or 16.x" });
  ensureDir(dir);
  const schema = relative(resolve(dir), schemaPath("manifest")) || schemaPath("manifest");
  await writeFileAtomic(target, Buffer.from(starterText(name, schema, { arch: opts.arch, release })));
  return target;
}
