// Builtin extensions, materialised for the base kernel. Tiny Core loop-mounts each
// /tmp/builtin/optional/*.tcz at boot (tce-setup -> tce-load), which needs the loop and
// squashfs drivers; a kernel without them hangs in `mount -o loop`. Then the extensions
// are unpacked into the initrd at build time instead, as tce-load would have linked them:
// files the base already has win, usr/local/tce.installed/<name> marks each one, and its
// setup script runs at boot from /opt/bootlocal.sh before any service.
import { MkError } from "../errors.js";
import type { ReadLimits } from "../formats/limits.js";
import { extensionFiles } from "../tinycore/extension-files.js";
import { symlinkAbove } from "../tree/links.js";
import type { Lock } from "../lock/lock-file.js";
import {
  BOOTLOCAL,
  BUILTIN_DIR,
  BUILTIN_OPTIONAL,
  BUILTIN_SETUP,
  editBootlocal,
  extensionPath,
  NEW_MODULES,
  STAFF_GID,
  TCE_INSTALLED,
} from "../tinycore/layout.js";
import { EXTENSION_MODULES, availableModules } from "../tinycore/modules.js";
import { fileEntry, openContent, type Entry, readSmallText } from "../tree/entry.js";
import { parentsOf, type FileTree } from "../tree/file-tree.js";

export type BuiltinMode = "auto" | "load" | "unpack";

/** The drivers tce-setup needs to loop-mount an extension. */
const LOOP_DRIVERS = ["loop", "squashfs"] as const;

/**
 * Which of loop and squashfs the base kernel lacks: a driver counts when the initrd carries
 * it as a module or lists it as built in (tinycore/modules.ts).
 */
export async function missingLoopDrivers(initrd: FileTree, kernelRelease: string | undefined): Promise<string[]> {
  const found = await availableModules(initrd, kernelRelease);
  return LOOP_DRIVERS.filter((d) => !found.has(d));
}

export async function chooseMode(
  mode: BuiltinMode,
  initrd: FileTree,
  lock: Lock,
): Promise<{ unpack: boolean; why: string }> {
  if (mode === "load") return { unpack: false, why: "--builtin load" };
  if (mode === "unpack") return { unpack: true, why: "--builtin unpack" };
  if (!lock.extensions.some((e) => e.role === "builtin")) return { unpack: false, why: "no builtin extensions" };
  const missing = await missingLoopDrivers(initrd, lock.kernel);
  return missing.length === 0
    ? { unpack: false, why: "the base kernel has loop and squashfs: Tiny Core loop-mounts /tmp/builtin at boot" }
    : {
        unpack: true,
        why: `the base initrd has no ${missing.join(" or ")} driver${lock.kernel ? ` for ${lock.kernel}` : ""}, so its kernel cannot loop-mount squashfs extensions at boot: they are unpacked into the initrd instead`,
      };
}

/** The overlay with /tmp/builtin replaced by the unpacked extensions and their boot-time setup. */
export async function unpackBuiltin(
  overlay: readonly Entry[],
  lock: Lock,
  base: FileTree,
  epoch: number,
  limits: ReadLimits,
  /** What of an extension's files reaches the image (prune:); default all. */
  keep: (name: string, files: Entry[]) => Entry[] = (_name, files) => files,
): Promise<Entry[]> {
  const byPath = new Map(overlay.map((e) => [e.path, e]));
  const out = new Map<string, Entry>();
  for (const e of overlay) if (e.path !== BUILTIN_DIR && !e.path.startsWith(`${BUILTIN_DIR}/`)) out.set(e.path, e);
  const taken = (p: string) => base.has(p) || out.has(p);
  const at = (p: string) => out.get(p) ?? base.get(p);
  const origin = new Map<string, string>(); // paths the extensions put there, by extension
  const names: string[] = [];
  let modules = false;
  for (const ext of lock.extensions.filter((x) => x.role === "builtin")) {
    const path = extensionPath(BUILTIN_OPTIONAL, ext.name);
    const tcz = byPath.get(path);
    if (!tcz) throw new MkError("input", `the bundle lacks ${path}`);
    names.push(ext.name);
    const files = keep(ext.name, await extensionFiles(ext.name, openContent(tcz), limits));
    const realOf = new Map(files.map((f) => [f.path, f]));
    for (const f of files) {
      if (f.path === "") continue;
      if (f.path.startsWith(EXTENSION_MODULES)) modules = true;
      // Never through a symlink: an extension may not plant a link that another one writes through.
      const link = symlinkAbove(f.path, at);
      if (link)
        throw new MkError(
          "build",
          `builtin ${ext.name}.tcz puts ${f.path} under ${link}, a symlink from ${origin.get(link) ?? "the base initrd or the overlay"}: unpacking it would write wherever the link points`,
        );
      // Like `yes n | cp -ai`: what is already there is not replaced; directories merge.
      if (f.type === "dir") {
        if (!taken(f.path)) out.set(f.path, { ...f, mtime: epoch });
        continue;
      }
      if (taken(f.path)) continue;
      // File data stays in the extension and streams into the initrd when it is written.
      const real = f.type === "hardlink" ? realOf.get(f.linkTarget!) : f;
      if ((f.type === "file" || f.type === "hardlink") && real?.type !== "file")
        throw new MkError(
          "build",
          `builtin ${ext.name}.tcz: ${f.path} is a hard link to ${f.linkTarget}, which is not a file`,
        );
      const { linkTarget: _link, ...meta } = f;
      out.set(
        f.path,
        f.type === "file" || f.type === "hardlink"
          ? {
              ...meta,
              type: "file",
              size: real!.size,
              ...(real!.content ? { content: real!.content } : {}),
              mtime: epoch,
            }
          : { ...f, mtime: epoch },
      );
      origin.set(f.path, `builtin ${ext.name}.tcz`);
    }
    const marker = `${TCE_INSTALLED}/${ext.name}`;
    if (!taken(marker)) out.set(marker, fileEntry(marker, Buffer.alloc(0), epoch, 0o644, 0, STAFF_GID));
  }
  if (modules) out.set(NEW_MODULES, fileEntry(NEW_MODULES, Buffer.alloc(0), epoch));
  // What tce-load's update_system does for each extension, in load order.
  const installed = (n: string) => `/${TCE_INSTALLED}/${n}`;
  const script = [
    "#!/bin/sh",
    "# mkbundle: set up the builtin extensions unpacked into the initrd, as tce-load would",
    ...names.map((n) => `[ -s ${installed(n)} ] && [ -x ${installed(n)} ] && ${installed(n)}`),
    "/sbin/ldconfig 2>/dev/null",
    "exit 0",
    "",
  ].join("\n");
  out.set(BUILTIN_SETUP, fileEntry(BUILTIN_SETUP, Buffer.from(script), epoch, 0o755));
  const bootlocal = out.get(BOOTLOCAL) ?? base.get(BOOTLOCAL);
  const edited = editBootlocal(bootlocal?.type === "file" ? await readSmallText(bootlocal) : undefined, {
    first: [`/${BUILTIN_SETUP}`],
  });
  out.set(
    BOOTLOCAL,
    fileEntry(
      BOOTLOCAL,
      Buffer.from(edited),
      epoch,
      bootlocal?.mode ?? 0o755,
      bootlocal?.uid ?? 0,
      bootlocal?.gid ?? 0,
    ),
  );
  // New directories need their parents; existing ones stay as the base has them.
  for (const p of [...out.keys()]) {
    for (const parent of parentsOf(p)) {
      if (out.has(parent)) continue;
      const b = base.get(parent);
      out.set(
        parent,
        b?.type === "dir"
          ? withoutContent(b)
          : { path: parent, type: "dir", mode: 0o755, uid: 0, gid: 0, mtime: epoch, size: 0 },
      );
    }
  }
  return [...out.values()];
}

function withoutContent(e: Entry): Entry {
  const { content: _content, ...rest } = e;
  return rest;
}
