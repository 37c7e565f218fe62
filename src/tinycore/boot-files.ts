// Which kernel and initrds a Tiny Core ISO boots: read from isolinux.cfg's default label,
// never hard-coded (Core: boot/vmlinuz + boot/core.gz; CorePure64: vmlinuz64 + corepure64.gz).
import { MkError } from "../errors.js";
import { readContent, type Entry } from "../tree/entry.js";
import { defaultLabel, parseIsolinuxCfg, type BootLabel, type IsolinuxConfig } from "./isolinux-cfg.js";

export interface BootFiles {
  cfgPath: string;
  cfg: IsolinuxConfig;
  label: BootLabel;
  kernel: string; // entry path, no leading '/'
  initrds: string[];
}

const CFG_CANDIDATES = [
  "boot/isolinux/isolinux.cfg",
  "isolinux/isolinux.cfg",
  "isolinux.cfg",
  "boot/syslinux/syslinux.cfg",
  "syslinux.cfg",
];

export async function findBootFiles(entries: readonly Entry[]): Promise<BootFiles> {
  const byPath = new Map(entries.map((e) => [e.path, e]));
  const cfgPath = CFG_CANDIDATES.find((p) => byPath.get(p)?.type === "file");
  if (!cfgPath) throw new MkError("input", `no isolinux.cfg in the image (looked for ${CFG_CANDIDATES.join(", ")})`);
  const cfg = parseIsolinuxCfg(readContent(byPath.get(cfgPath)!).toString("utf8"));
  const label = defaultLabel(cfg);
  if (!label?.kernel) throw new MkError("input", `${cfgPath} has no default label with a kernel`);
  const dir = cfgPath.includes("/") ? cfgPath.slice(0, cfgPath.lastIndexOf("/")) : "";
  // isolinux resolves relative paths against the config's directory.
  const resolvePath = (p: string) => (p.startsWith("/") ? p.slice(1) : dir ? `${dir}/${p}` : p);
  const kernel = resolvePath(label.kernel);
  const initrds = label.initrds.map(resolvePath);
  for (const p of [kernel, ...initrds])
    if (byPath.get(p)?.type !== "file")
      throw new MkError("input", `${cfgPath} names ${p}, which is not a file in the image`);
  return { cfgPath, cfg, label, kernel, initrds };
}
