// What `mkbundle show` (and Razor's --dry-run) prints: the manifest as it will be built, and
// a header of what the resolution derived, every setting with where it came from.
import { existsSync } from "node:fs";
import { describeConfig } from "../config/config.js";
import { lockPathFor, readLock } from "../lock/lock-file.js";
import { flavourPolicy, type FlavourPolicy } from "../manifest/flavour.js";
import { flavourDrops, redacted } from "../manifest/resolve.js";
import type { ResolvedManifest } from "../manifest/types.js";
import { bundleFileName, isoFileName, pxeDirName, sbomFileName, SUMS_FILE } from "../outdir/names.js";
import { yamlLib } from "../io/lazy.js";
import type { ManifestRun } from "./manifest.js";

export interface Derived {
  dropped: string[];
  epoch: { value: number; source: string };
  /** What the flavour decides, as the stages ask it. */
  flavour: { name: string } & Omit<FlavourPolicy, "dropsBuiltin">;
  kernel?: string;
  lockFile?: string | undefined;
  outputs: string[];
  settings: ReturnType<typeof describeConfig>;
}

export function derived(r: ManifestRun): Derived {
  const m = r.input.manifest;
  const version = m.version ?? "<version>";
  const lockFile = r.input.file ? lockPathFor(r.input.file) : undefined;
  let kernel: string | undefined;
  try {
    kernel = lockFile && existsSync(lockFile) ? readLock(lockFile)?.kernel : undefined;
  } catch {
    kernel = undefined; // a damaged lock: lock and build report it
  }
  const epochFrom = r.config.sources.epoch;
  const { dropsBuiltin: _drops, ...policy } = flavourPolicy(m.flavour);
  return {
    dropped: flavourDrops(r.input.written),
    epoch: { value: m.epoch, source: epochFrom.kind === "env" ? epochFrom.name : epochFrom.kind },
    flavour: { name: m.flavour, ...policy },
    ...(kernel ? { kernel, lockFile } : {}),
    outputs: [
      bundleFileName(m),
      isoFileName(m.name, m.flavour, version),
      sbomFileName(m.name, m.flavour, version),
      `${pxeDirName(m.name, m.flavour, version)}/`,
      SUMS_FILE,
    ],
    settings: describeConfig(r.config),
  };
}

/** The header of `show` and `--dry-run`: what the resolution derived, in words. */
export function describeBuild(r: ManifestRun, origin: string): string[] {
  const d = derived(r);
  return [
    origin,
    ...(d.dropped.length
      ? [`flavour ${r.input.manifest.flavour} leaves out of extensions.builtin: ${d.dropped.join(", ")}`]
      : []),
    `flavour ${d.flavour.name}: ${Object.entries(d.flavour)
      .filter(([k]) => k !== "name")
      .map(([k, v]) => `${k} ${String(v)}`)
      .join(", ")}`,
    `epoch ${d.epoch.value} (${new Date(d.epoch.value * 1000).toISOString()}) from ${d.epoch.source === "default" ? "the default; set epoch: or SOURCE_DATE_EPOCH" : d.epoch.source}`,
    ...(d.kernel ? [`kernel ${d.kernel} (from ${d.lockFile})`] : []),
    `outputs in ${r.config.values.out}/: ${d.outputs.join(", ")}`,
    "settings (value, from):",
    ...d.settings
      .filter((s) => s.setting !== "path")
      .map((s) => `  ${s.setting}: ${typeof s.value === "string" ? s.value : JSON.stringify(s.value)} (${s.from})`),
  ];
}

export function resolvedYaml(m: ResolvedManifest, header: readonly string[]): string {
  return header.map((l) => `# ${l}\n`).join("") + yamlLib().stringify(redacted(m), { lineWidth: 0 });
}
