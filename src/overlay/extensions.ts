// Builtin extensions in /tmp/builtin (optional/ and onboot.lst) and the in-image mirror in
// /tmp/tinycorelinux/<release>/<arch>/tcz, from the lock's pins.
import type { LockedExtension } from "../lock/lock-file.js";
import { effectiveBuiltin } from "../lock/lock-file.js";
import { md5FileText } from "../tinycore/md5-file.js";
import type { Entry } from "../tree/entry.js";
import { file, type OverlayInput } from "./types.js";

export const BUILTIN_DIR = "tmp/builtin";

export function extensionEntries(input: OverlayInput): Entry[] {
  const { lock, manifest, epoch } = input;
  const out: Entry[] = [];
  const put = (dir: string, e: LockedExtension, siblings: readonly (".dep" | ".info" | ".list")[]) => {
    out.push(file(`${dir}/${e.name}.tcz`, input.blob(e.sha256), epoch));
    out.push(file(`${dir}/${e.name}.tcz.md5.txt`, Buffer.from(md5FileText(e.md5, `${e.name}.tcz`)), epoch));
    for (const s of siblings) {
      const sha = e.files?.[s];
      if (sha) out.push(file(`${dir}/${e.name}.tcz${s}`, input.blob(sha), epoch));
    }
  };
  for (const e of lock.extensions.filter((x) => x.role === "builtin")) put(`${BUILTIN_DIR}/optional`, e, [".dep"]);
  const mirrorDir = `tmp/tinycorelinux/${lock.release}/${lock.arch}/tcz`;
  for (const e of lock.extensions.filter((x) => x.role === "mirror")) put(mirrorDir, e, [".dep", ".info", ".list"]);
  // tce-setup loads these at boot, in this order; their dependencies come from the .dep files.
  const top = effectiveBuiltin(manifest).map((n) => n.replace(/KERNEL/g, lock.kernel ?? "KERNEL"));
  if (top.length) out.push(file(`${BUILTIN_DIR}/onboot.lst`, Buffer.from(top.map((n) => `${n}.tcz\n`).join("")), epoch));
  return out;
}

export function gemEntries(input: OverlayInput): Entry[] {
  const { lock, manifest, epoch } = input;
  if (!lock.gems.length) return [];
  const out = lock.gems.map((g) => file(`tmp/gem-mirror/gems/${g.name}-${g.version}.gem`, input.blob(g.sha256), epoch));
  const names = manifest.gems.require.map((r) => r.split(/\s/)[0]!);
  out.push(file("tmp/gem-mirror/gem.list", Buffer.from(names.map((n) => `${n}\n`).join("")), epoch));
  return out;
}
