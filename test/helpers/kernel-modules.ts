// The x86_64 fixture's Debian kernel (6.1.0-57-amd64) was given 34 of its modules, and no
// ext4: it cannot mount a data partition. Its own Debian package has the rest; .ci/run
// downloads it (apt-get download linux-image-6.1.0-57-amd64) to ~/.cache/mkbundle-ci, or
// MKBUNDLE_KERNEL_DEB names it. Here: the fixture's module tree with some of the package's
// modules added, and the dependency files depmod (kmod) computes for the result.
import { existsSync, mkdirSync, readdirSync, writeFileSync, copyFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { DEFAULT_LIMITS } from "../../src/formats/limits.js";
import { openBaseImage } from "../../src/tinycore/base-image.js";
import { readContent } from "../../src/tree/entry.js";
import { fixturesDir } from "./paths.js";
import { q, sh } from "./run.js";

const FIXTURE_KERNEL = "6.1.0-57-amd64";

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

/**
 * Into `dir`: each module of `add` (paths under lib/modules/<release>/) and every depmod file
 * that changes, as files a manifest's files: can name; returns those entries' YAML lines.
 */
export async function modulesWith(dir: string, add: readonly string[]): Promise<string> {
  const iso = join(fixturesDir(), "tinycore/10.x/x86_64/release/CorePure64-10.1.iso");
  const root = join(dir, "root");
  const rel = `lib/modules/${FIXTURE_KERNEL}`;
  const base = await openBaseImage(iso, DEFAULT_LIMITS);
  try {
    for (const e of (await base.initrd()).values())
      if (e.type === "file" && e.path.startsWith(`${rel}/`)) {
        mkdirSync(dirname(join(root, e.path)), { recursive: true });
        writeFileSync(join(root, e.path), readContent(e));
      }
  } finally {
    base.close();
  }
  const deb = join(dir, "deb");
  sh(`dpkg-deb -x ${q(kernelDeb())} ${q(deb)}`);
  for (const m of add) {
    mkdirSync(dirname(join(root, rel, m)), { recursive: true });
    copyFileSync(join(deb, rel, m), join(root, rel, m));
  }
  sh(`depmod -b ${q(root)} ${FIXTURE_KERNEL}`);
  const files = [
    ...add,
    ...["dep", "dep.bin", "alias", "alias.bin", "softdep", "symbols", "symbols.bin"].map((s) => `modules.${s}`),
  ];
  const src = join(dir, "kmods");
  mkdirSync(src, { recursive: true });
  return files
    .map((f) => {
      const name = f.replaceAll("/", "_");
      copyFileSync(join(root, rel, f), join(src, name));
      return `  - { path: /${rel}/${f}, source: kmods/${name} }\n`;
    })
    .join("");
}
