// Edits of isolinux.cfg for a remaster: boot codes on the default label, the prompt
// timeout, an extra initrd. Everything else in the file stays as the base had it.
import { MkError } from "../errors.js";
import { defaultLabel, parseIsolinuxCfg } from "../tinycore/isolinux-cfg.js";

export interface CfgEdits {
  /** Boot codes added to the default label's append line (kept once). */
  append: readonly string[];
  /** Seconds at the prompt; 0 boots at once; undefined keeps the base's. */
  timeoutSeconds?: number;
  /** The label's initrds, replacing its own list (absolute ISO paths, in load order). */
  initrds?: readonly string[];
}

export function editIsolinuxCfg(text: string, edits: CfgEdits): string {
  const cfg = parseIsolinuxCfg(text);
  const lines = [...cfg.lines];
  const label = defaultLabel(cfg);
  if (!label) throw new MkError("input", "isolinux.cfg has no label to boot");
  const indent = /^(\s*)/.exec(lines[label.lines.kernel ?? label.lines.label + 1] ?? "")?.[1] ?? "\t";
  if (edits.initrds) {
    const list = edits.initrds.join(",");
    const append = label.lines.append;
    const inAppend = append !== undefined && /\binitrd=\S+/.test(lines[append]!);
    if (label.lines.initrd !== undefined)
      lines[label.lines.initrd] = lines[label.lines.initrd]!.replace(/^(\s*initrd\s+).*$/i, `$1${list}`);
    if (inAppend) lines[append] = lines[append]!.replace(/\binitrd=\S+/, `initrd=${list}`);
    if (label.lines.initrd === undefined && !inAppend)
      lines.splice((label.lines.kernel ?? label.lines.label) + 1, 0, `${indent}initrd ${list}`);
  }
  const current = parseIsolinuxCfg(lines.join("\n"));
  const l = defaultLabel(current)!;
  const codes = edits.append.filter((c) => !l.append.includes(c));
  if (codes.length) {
    if (l.lines.append !== undefined)
      lines[l.lines.append] = `${lines[l.lines.append]!.replace(/\s*$/, "")} ${codes.join(" ")}`;
    else lines.splice((l.lines.initrd ?? l.lines.kernel ?? l.lines.label) + 1, 0, `${indent}append ${codes.join(" ")}`);
  }
  let out = lines.join("\n");
  if (edits.timeoutSeconds !== undefined) {
    // isolinux counts tenths; `timeout 0` would wait forever, so 0 seconds means no prompt.
    const [prompt, timeout] =
      edits.timeoutSeconds === 0 ? ["prompt 0", "timeout 1"] : ["prompt 1", `timeout ${edits.timeoutSeconds * 10}`];
    out = setDirective(setDirective(out, "prompt", prompt), "timeout", timeout);
  }
  return out;
}

function setDirective(text: string, key: string, line: string): string {
  const re = new RegExp(`^\\s*${key}\\s+.*$`, "im");
  return re.test(text) ? text.replace(re, line) : `${text.replace(/\n?$/, "\n")}${line}\n`;
}
