// The resolved configuration: the settings table (settings.ts) applied once to what the
// command line said, what the manifest says and what the environment holds, frozen. Every
// value knows where it came from (`mkbundle show` prints them); nothing downstream reads the
// environment or the raw options again.
import type { ReadLimits } from "../formats/limits.js";
import type { Manifest } from "../manifest/types.js";
import type { Env } from "./environment.js";
import {
  resolveSetting,
  SETTINGS,
  type Setting,
  type SettingKey,
  type SettingValues,
  type Source,
} from "./settings.js";

export interface Config {
  readonly values: Readonly<SettingValues>;
  readonly sources: Readonly<Record<SettingKey, Source>>;
  /** What one opened container may cost (maxEntries, maxBytes, maxMetadata). */
  readonly limits: ReadLimits;
  /** SOURCE_DATE_EPOCH was set: builds are asked to be reproducible (a password's salt, iso-metadata's build_time). */
  readonly sourceDateEpoch?: number;
}

export interface ConfigInput {
  /** What the command line set, by setting; options left at their default are left out. */
  cli?: Partial<Record<SettingKey, string | number | boolean>>;
  /** The manifest as written, when the command has one. */
  manifest?: Manifest;
  env: Env;
}

/** A key path ("gems.source") of the written manifest. */
function manifestValue(m: Manifest | undefined, path: string | undefined): string | number | boolean | undefined {
  if (!m || !path) return undefined;
  let v: unknown = m;
  for (const k of path.split(".")) v = v && typeof v === "object" ? (v as Record<string, unknown>)[k] : undefined;
  return typeof v === "string" || typeof v === "number" || typeof v === "boolean" ? v : undefined;
}

/** The first of a setting's variables that is set (to something other than the empty string). */
function envValue(env: Env, names: string | readonly string[] | undefined): { env?: { name: string; value: string } } {
  for (const name of typeof names === "string" ? [names] : (names ?? [])) {
    const value = env[name];
    if (value !== undefined && value !== "") return { env: { name, value } };
  }
  return {};
}

/** Resolves every setting; a bad value anywhere is a usage error naming where it came from. */
export function resolveConfig(input: ConfigInput): Config {
  const values: Record<string, unknown> = {};
  const sources: Record<string, Source> = {};
  for (const [key, s] of Object.entries(SETTINGS)) {
    const r = resolveSetting(s as Setting<unknown>, {
      ...(input.cli?.[key as SettingKey] !== undefined ? { cli: input.cli[key as SettingKey]! } : {}),
      ...(manifestValue(input.manifest, s.manifest) !== undefined
        ? { manifest: manifestValue(input.manifest, s.manifest)! }
        : {}),
      ...envValue(input.env, s.env),
    });
    values[key] = r.value;
    sources[key] = r.source;
  }
  const v = values as SettingValues;
  const sde = sources["epoch"]!.kind === "env" ? v.epoch : undefined;
  return Object.freeze({
    values: Object.freeze(v),
    sources: Object.freeze(sources as Record<SettingKey, Source>),
    limits: Object.freeze({ entries: v.maxEntries, bytes: v.maxBytes, metadata: v.maxMetadata }),
    ...(sde !== undefined ? { sourceDateEpoch: sde } : {}),
  });
}

/** Each setting as `show` prints it: value (secrets only as "set") and where it came from. */
export function describeConfig(c: Config): { setting: SettingKey; value: unknown; from: string; doc: string }[] {
  return (Object.keys(SETTINGS) as SettingKey[]).map((k) => {
    const s = SETTINGS[k] as { secret?: boolean; doc: string };
    const value = c.values[k];
    return {
      setting: k,
      value: s.secret && value !== undefined ? "(set, not shown)" : (value ?? null),
      from: c.sources[k].kind === "default" ? "default" : `${c.sources[k].name} (${c.sources[k].kind})`,
      doc: s.doc,
    };
  });
}
