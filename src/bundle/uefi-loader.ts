// boot.uefi's loader for the bundle: the pinned file from the store, or the file taken out
// of its (pinned) extension. Loaders are small programs; anything larger is refused.
import { MkError } from "../errors.js";
import type { ReadLimits } from "../formats/limits.js";
import type { ByteSource } from "../io/byte-source.js";
import { bufferSource } from "../io/byte-source.js";
import type { Lock } from "../lock/lock-file.js";
import { extensionName, type ResolvedManifest } from "../manifest/types.js";
import { extensionFiles, fileInExtension } from "../tinycore/extension-files.js";
import { normalizeEntryPath, readContent } from "../tree/entry.js";

/** The bundle member that holds the loader, and the name firmware looks for on removable media. */
export const LOADER_MEMBER = "BOOTX64.EFI";
/** Loaders are small programs (systemd-boot: 140 KiB); anything past this is refused, not read. */
export const MAX_LOADER = 64 * 1024 * 1024;

export async function uefiLoaderSource(
  m: ResolvedManifest,
  lock: Lock,
  blob: (sha256: string) => ByteSource,
  limits: ReadLimits,
): Promise<ByteSource | undefined> {
  const loader = m.boot.uefi?.loader;
  if (!loader) return undefined;
  if ("url" in loader) {
    if (!lock.uefiLoader)
      throw new MkError("input", "the lock does not pin boot.uefi.loader", { hint: "run mkbundle lock --update" });
    return blob(lock.uefiLoader.sha256);
  }
  const name = extensionName(loader.extension);
  const pin = lock.extensions.find((e) => e.name === name);
  if (!pin)
    throw new MkError("input", `boot.uefi.loader: extension ${name} is not in the lock`, {
      hint: "run mkbundle lock --update",
    });
  const want = normalizeEntryPath("boot.uefi.loader", loader.path);
  const entries = await extensionFiles(name, blob(pin.sha256), limits);
  const found = fileInExtension(entries, want);
  if (typeof found === "string") {
    const near = entries.filter((e) => e.type === "file" && e.path.toLowerCase().endsWith(".efi")).map((e) => e.path);
    throw new MkError(
      "build",
      `boot.uefi.loader: ${name}.tcz has no file ${want}${near.length ? ` (its .efi files: ${near.slice(0, 5).join(", ")})` : ""}`,
    );
  }
  if (found.size > MAX_LOADER)
    throw new MkError(
      "build",
      `boot.uefi.loader: ${name}.tcz: ${want} is ${found.size} bytes; a loader is at most 64 MiB`,
    );
  return bufferSource(readContent(found));
}
