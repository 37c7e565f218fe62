// Builtin extensions in /tmp/builtin (optional/ and onboot.lst) and the in-image mirror,
// from the lock's pins.
import type { LockedExtension } from "../lock/lock-file.js";
import { rootsOf } from "../manifest/types.js";
import { expandKernel } from "../tinycore/kernel-names.js";
import { BUILTIN_OPTIONAL, extensionPath, GEM_MIRROR, inImageMirror, ONBOOT_LIST } from "../tinycore/layout.js";
import { md5FileText } from "../tinycore/md5-file.js";
import { fileEntry, fileFrom, type Entry } from "../tree/entry.js";
import type { OverlayInput } from "./types.js";

export function extensionEntries(input: OverlayInput): Entry[] {
  const { lock, manifest } = input;
  const epoch = manifest.epoch;
  const out: Entry[] = [];
  const put = (dir: string, e: LockedExtension, siblings: readonly (".dep" | ".info" | ".list")[]) => {
    out.push(fileFrom(extensionPath(dir, e.name), input.blob(e.sha256), epoch));
    out.push(
      fileEntry(extensionPath(dir, e.name, ".md5.txt"), Buffer.from(md5FileText(e.md5, `${e.name}.tcz`)), epoch),
    );
    for (const s of siblings) {
      const sha = e.files?.[s];
      if (sha) out.push(fileFrom(extensionPath(dir, e.name, s), input.blob(sha), epoch));
    }
  };
  for (const e of lock.extensions.filter((x) => x.role === "builtin")) put(BUILTIN_OPTIONAL, e, [".dep"]);
  for (const e of lock.extensions.filter((x) => x.role === "mirror"))
    put(inImageMirror(lock.release, lock.arch), e, [".dep", ".info", ".list"]);
  // tce-setup loads these at boot, in this order; their dependencies come from the .dep files.
  const top = rootsOf(manifest, "builtin").map((n) => expandKernel(n, lock.kernel));
  if (top.length) out.push(fileEntry(ONBOOT_LIST, Buffer.from(top.map((n) => `${n}.tcz\n`).join("")), epoch));
  return out;
}

export function gemEntries(input: OverlayInput): Entry[] {
  const { lock, manifest } = input;
  if (!lock.gems.length) return [];
  const out = lock.gems.map((g) =>
    fileFrom(`${GEM_MIRROR}/gems/${g.name}-${g.version}.gem`, input.blob(g.sha256), manifest.epoch),
  );
  const names = manifest.gems.require.map((r) => r.split(/\s/)[0]!);
  out.push(fileEntry(`${GEM_MIRROR}/gem.list`, Buffer.from(names.map((n) => `${n}\n`).join("")), manifest.epoch));
  return out;
}
