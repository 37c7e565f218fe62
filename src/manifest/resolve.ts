// Fill in defaults, apply the flavour and the environment's settings: the manifest
// exactly as it will be built. Every derived value is computed here, once.
import { mirrorRoot } from "../tinycore/mirror-layout.js";
import { buildEpoch, type Env } from "./epoch.js";
import {
  DEFAULT_GEM_SOURCE,
  defaultIso,
  extensionName,
  PUBLIC_MIRROR,
  type Manifest,
  type ResolvedManifest,
} from "./types.js";

export interface ResolveOptions {
  /** --mirror: beats the manifest, which beats MK_BUNDLE_TCL_MIRROR_URI. */
  mirror?: string;
  env?: Env;
}

/** Extensions a flavour leaves out of extensions.builtin: prod drops openssh (Razor's rule) and flavours.prod.exclude. */
export function flavourDrops(m: Manifest): string[] {
  if (m.flavour !== "prod") return [];
  const drop = new Set(["openssh", ...(m.flavours?.prod?.exclude ?? []).map(extensionName)]);
  return (m.extensions?.builtin ?? []).map(extensionName).filter((n) => drop.has(n));
}

export function resolveManifest(m: Manifest, opts: ResolveOptions = {}): ResolvedManifest {
  const env = opts.env ?? {};
  const base = m.base ?? {};
  const isoUrl = base.url ?? nonEmpty(env["MK_BUNDLE_TCL_ISO_URL"]);
  const dropped = new Set(flavourDrops(m));
  return {
    name: m.name,
    ...(m.version !== undefined ? { version: m.version } : {}),
    flavour: m.flavour ?? "dev",
    epoch: buildEpoch(m.epoch, env).value,
    base: base.kernel
      ? {
          release: base.release ?? "4.x",
          arch: base.arch ?? "x86",
          kernel: base.kernel,
          initrds: base.initrds ?? [],
          ...(base.isolinux ? { isolinux: base.isolinux } : {}),
        }
      : {
          release: base.release ?? "4.x",
          arch: base.arch ?? "x86",
          iso: base.iso ?? defaultIso(base.arch ?? "x86"),
          ...(isoUrl ? { url: isoUrl } : {}),
          ...(base.sha256 ? { sha256: base.sha256 } : {}),
        },
    mirror: opts.mirror ?? m.mirror ?? mirrorFromEnv(env) ?? PUBLIC_MIRROR,
    ...(m.kernel ? { kernel: m.kernel } : {}),
    extensions: {
      builtin: (m.extensions?.builtin ?? []).map(extensionName).filter((n) => !dropped.has(n)),
      mirror: (m.extensions?.mirror ?? []).map(extensionName),
    },
    gems: {
      source: m.gems?.source ?? nonEmpty(env["MK_BUNDLE_GEM_SERVER_URI"]) ?? DEFAULT_GEM_SOURCE,
      require: m.gems?.require ?? [],
    },
    files: (m.files ?? []).map((f) => ({ ...f, mode: f.mode ?? "0644", owner: f.owner ?? "0:0" })),
    services: (m.services ?? []).map((s) => ({ ...s, log: s.log ?? `/var/log/${s.name}.log` })),
    ...(m.password ? { password: m.password } : {}),
    flavours: { prod: { exclude: (m.flavours?.prod?.exclude ?? []).map(extensionName) } },
    boot: {
      append: m.boot?.append ?? [],
      ...(m.boot?.timeout !== undefined ? { timeout: m.boot.timeout } : {}),
      ...(m.boot?.volume_id ? { volume_id: m.boot.volume_id } : {}),
      ...(m.boot?.uefi ? { uefi: m.boot.uefi } : {}),
    },
  };
}

/** MK_BUNDLE_TCL_MIRROR_URI, in Razor's …/4.x/x86/tcz form or as the mirror's root. */
const mirrorFromEnv = (env: Env): string | undefined => {
  const uri = nonEmpty(env["MK_BUNDLE_TCL_MIRROR_URI"]);
  return uri ? mirrorRoot(uri) : undefined;
};

const nonEmpty = (s: string | undefined): string | undefined => (s && s.trim() ? s.trim() : undefined);

/** A copy safe to print: password hashes are not shown (names of variables and files are). */
export function redacted(m: ResolvedManifest): ResolvedManifest {
  if (!m.password || !("hash" in m.password)) return m;
  return { ...m, password: { hash: "<redacted>" } };
}

/** A copy safe to publish (bundle.json): without a password hash, still a valid manifest. */
export function withoutSecrets(m: ResolvedManifest): ResolvedManifest {
  if (!m.password || !("hash" in m.password)) return m;
  const { password: _password, ...rest } = m;
  return rest;
}
