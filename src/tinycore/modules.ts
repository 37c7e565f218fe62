// Kernel modules in a Tiny Core tree: lib/modules/<release>/…/NAME.ko (compressed or not),
// and modules.builtin, which lists the drivers built into the kernel. Extensions bring
// theirs under usr/local/lib/modules (tc-config then runs depmod, told by newmodules).
import { readSmallText, type Entry } from "../tree/entry.js";
import type { FileTree } from "../tree/file-tree.js";

/** Where extensions put their kernel modules. */
export const EXTENSION_MODULES = "usr/local/lib/modules/";

/** A module's name as the kernel knows it: dashes are underscores. */
const moduleName = (file: string): string => file.replace(/-/g, "_");

/**
 * The modules a tree holds for `release` (any release when undefined), as files or as listed
 * built in by modules.builtin. A split rootfs + modules initrd counts as one tree.
 */
export async function availableModules(tree: FileTree, release: string | undefined): Promise<Set<string>> {
  const found = new Set<string>();
  for (const [p, e] of tree) {
    const m = /^(?:usr\/)?lib\/modules\/([^/]+)\/(.+)$/.exec(p);
    if (!m || (release && m[1] !== release)) continue;
    const module = /(?:^|\/)([^/]+)\.ko(?:\.gz|\.xz|\.zst)?$/.exec(m[2]!);
    if (module && e.type !== "dir") found.add(moduleName(module[1]!));
    if (m[2] === "modules.builtin" && e.type === "file") (await builtinModules(e)).forEach((n) => found.add(n));
  }
  return found;
}

/** modules.builtin: one kernel/…/NAME.ko per line. */
async function builtinModules(e: Entry): Promise<string[]> {
  const text = await readSmallText(e);
  return [...text.matchAll(/([^/\s]+)\.ko$/gm)].map((m) => moduleName(m[1]!));
}
