// The x86_64 fixture's Debian kernel (6.1.0-57-amd64) was given 34 of its modules, and no
// ext4: it cannot mount a data partition. Its own Debian package has the rest; .ci/run
// downloads it (apt-get download linux-image-6.1.0-57-amd64) to ~/.cache/mkbundle-ci, or
// MKBUNDLE_KERNEL_DEB names it. Here: modules out of that package, as kernel_modules: sources.
import { copyFileSync, existsSync, mkdirSync, readdirSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { q, sh } from "./run.js";

export const FIXTURE_KERNEL = "6.1.0-57-amd64";
/** ext4 and what it needs, as the package places them. */
export const EXT4_MODULES = [
  "kernel/fs/ext4/ext4.ko",
  "kernel/fs/jbd2/jbd2.ko",
  "kernel/fs/mbcache.ko",
  "kernel/lib/crc16.ko",
  "kernel/crypto/crc32c_generic.ko",
];

function kernelDeb(): string {
  const named = process.env["MKBUNDLE_KERNEL_DEB"];
  if (named) return named;
  const dir = join(process.env["XDG_CACHE_HOME"] ?? join(homedir(), ".cache"), "mkbundle-ci");
  const found = existsSync(dir)
    ? readdirSync(dir).find((n) => n.startsWith(`linux-image-${FIXTURE_KERNEL}_`))
    : undefined;
  if (!found)
    throw new Error(
      `the Debian package of the fixture's kernel is not in ${dir}: run .ci/run, or (cd ${dir} && apt-get download linux-image-${FIXTURE_KERNEL}), or set MKBUNDLE_KERNEL_DEB`,
    );
  return join(dir, found);
}

/** The package itself, copied to `dir`/kmods/kernel.deb (for kernel_modules: extract: { file }). */
export function copyKernelDeb(dir: string): string {
  mkdirSync(join(dir, "kmods"), { recursive: true });
  copyFileSync(kernelDeb(), join(dir, "kmods", "kernel.deb"));
  return "kmods/kernel.deb";
}

/**
 * The package's lib/modules/<release>/ under `dir`/deb, holding (at least) `modules`, paths
 * under it: only those are extracted from the package's data.tar.
 */
export function debModuleDir(dir: string, modules: readonly string[]): string {
  const deb = join(dir, "deb");
  const root = join(deb, "lib/modules", FIXTURE_KERNEL);
  const missing = modules.filter((m) => !existsSync(join(root, m)));
  if (missing.length) {
    mkdirSync(deb, { recursive: true });
    const members = missing.map((m) => q(`./lib/modules/${FIXTURE_KERNEL}/${m}`)).join(" ");
    sh(`dpkg-deb --fsys-tarfile ${q(kernelDeb())} | tar -x -C ${q(deb)} ${members}`);
  }
  return root;
}

/**
 * Copies each module (a path under lib/modules/<release>/) out of the package into
 * `dir`/kmods/ and returns kernel_modules: lines that place it where the package has it.
 */
export function kernelModulesFromDeb(dir: string, modules: readonly string[], load: "auto" | "boot" = "auto"): string {
  const from = debModuleDir(dir, modules);
  mkdirSync(join(dir, "kmods"), { recursive: true });
  return modules
    .map((m) => {
      const name = m.split("/").pop()!;
      copyFileSync(join(from, m), join(dir, "kmods", name));
      return `  - { source: kmods/${name}, path: ${m}${load === "boot" ? ", load: boot" : ""} }\n`;
    })
    .join("");
}
