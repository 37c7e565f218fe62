// The running kernel's release, for -KERNEL extension names: from lib/modules/<release>
// in the initrd, else from the version string in the bzImage header.
import type { Entry } from "../tree/entry.js";

export function kernelFromInitrd(entries: readonly Entry[]): string | undefined {
  const found = new Set<string>();
  for (const e of entries) {
    const m = /^(?:usr\/)?lib\/modules\/([^/]+)(?:\/|$)/.exec(e.path);
    if (m && (e.type === "dir" || e.path.length > m[0].length)) found.add(m[1]!);
  }
  // An empty lib/modules (as in the fixture) has no release directory at all.
  return [...found].sort()[0];
}

/** x86 boot protocol: "HdrS" at 0x202, kernel_version (offset from 0x200) at 0x20E. */
export function kernelFromBzImage(image: Buffer): string | undefined {
  if (image.length < 0x210 || image.toString("latin1", 0x202, 0x206) !== "HdrS") return undefined;
  const at = image.readUInt16LE(0x20e) + 0x200;
  if (at >= image.length) return undefined;
  const end = image.indexOf(0, at);
  const text = image.toString("latin1", at, end < 0 ? Math.min(image.length, at + 256) : end);
  const release = text.split(" ")[0];
  return release && /^[0-9]+\.[0-9]+[\w.+-]*$/.test(release) ? release : undefined;
}
