// The compact index (`<source>/info/<name>`): after a `---` line, one line per version:
// "VERSION[-PLATFORM] DEP:REQ&REQ,DEP:REQ|checksum:SHA256,ruby:REQ".
import { parseRequirement, type Constraint } from "./version.js";

export interface GemRelease {
  version: string;
  platform: string; // "ruby" for plain gems
  deps: { name: string; constraints: Constraint[] }[];
  sha256?: string;
}

export function parseInfoFile(text: string): GemRelease[] {
  const out: GemRelease[] = [];
  const lines = text.split("\n");
  const start = lines.indexOf("---");
  for (const line of lines.slice(start + 1)) {
    if (!line.trim()) continue;
    const [head, meta = ""] = line.split("|");
    const space = head!.indexOf(" ");
    const full = space < 0 ? head!.trim() : head!.slice(0, space);
    const depText = space < 0 ? "" : head!.slice(space + 1).trim();
    const dash = full.indexOf("-");
    const [version, platform] = dash < 0 ? [full, "ruby"] : [full.slice(0, dash), full.slice(dash + 1)];
    const deps = depText
      ? depText.split(",").map((d) => {
          const [name, req = ">= 0"] = d.split(":");
          return { name: name!.trim(), constraints: parseRequirement(req) };
        })
      : [];
    const sha256 = /(?:^|,)checksum:([0-9a-f]{64})/.exec(meta)?.[1];
    out.push({ version, platform, deps, ...(sha256 ? { sha256 } : {}) });
  }
  return out;
}
