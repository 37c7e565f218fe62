// isolinux.cfg: find the default label's kernel, initrd(s) and append line, as isolinux does.

export interface BootLabel {
  name: string;
  kernel?: string;
  /** initrd paths: from `initrd a,b` lines or `initrd=a,b` on the append line. */
  initrds: string[];
  append: string[];
  /** Line numbers (0-based) of the label's lines, for editing. */
  lines: { label: number; kernel?: number; initrd?: number; append?: number };
}

export interface IsolinuxConfig {
  lines: string[];
  defaultLabel?: string;
  timeout?: number; // tenths of a second
  /** `prompt 1`: the boot prompt waits `timeout`; `prompt 0` boots the default at once. */
  prompt?: boolean;
  labels: BootLabel[];
}

export function parseIsolinuxCfg(text: string): IsolinuxConfig {
  const lines = text.split(/\r?\n/);
  const cfg: IsolinuxConfig = { lines, labels: [] };
  let current: BootLabel | undefined;
  lines.forEach((line, i) => {
    const m = /^\s*(\S+)\s*(.*?)\s*$/.exec(line);
    if (!m || m[1]!.startsWith("#")) return;
    const [key, value] = [m[1]!.toLowerCase(), m[2]!];
    if (key === "default") cfg.defaultLabel = value.split(/\s+/)[0]!;
    else if (key === "timeout") cfg.timeout = Number(value);
    else if (key === "prompt") cfg.prompt = value.trim() !== "0";
    else if (key === "label") {
      current = { name: value, initrds: [], append: [], lines: { label: i } };
      cfg.labels.push(current);
    } else if (current && (key === "kernel" || key === "linux")) [current.kernel, current.lines.kernel] = [value, i];
    else if (current && key === "initrd") {
      current.initrds.push(...value.split(",").filter(Boolean));
      current.lines.initrd = i;
    } else if (current && key === "append") {
      current.lines.append = i;
      for (const code of value.split(/\s+/).filter(Boolean)) {
        if (code.startsWith("initrd=")) current.initrds.push(...code.slice(7).split(",").filter(Boolean));
        else current.append.push(code);
      }
    }
  });
  return cfg;
}

/** The label isolinux boots by default: `default NAME`, else the first label. */
export function defaultLabel(cfg: IsolinuxConfig): BootLabel | undefined {
  return cfg.labels.find((l) => l.name === cfg.defaultLabel) ?? cfg.labels[0];
}
