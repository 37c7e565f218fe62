// Fill in defaults and apply the flavour and the settings the configuration resolved (the
// mirror, the epoch, where the base ISO and gems come from): the manifest exactly as it
// will be built.
import { TC_OWNER } from "../tinycore/accounts.js";
import { sizeInBytes } from "./size.js";
import { flavourPolicy } from "./flavour.js";
import {
  defaultIso,
  extensionName,
  type FileSpec,
  type LocalExtension,
  type LocalExtensionSpec,
  type Manifest,
  type ResolvedFile,
  type ResolvedManifest,
} from "./types.js";

/** The values the configuration decides (config/settings.ts), among the manifest's, the environment's and defaults. */
export interface ManifestSettings {
  mirror: string;
  epoch: number;
  baseUrl?: string | undefined;
  gemSource: string;
}

/** Extensions a flavour leaves out of extensions.builtin (prod: openssh, as Razor did, and flavours.prod.exclude). */
export function flavourDrops(m: Manifest): string[] {
  const drop = new Set(flavourPolicy(m.flavour ?? "dev").dropsBuiltin(m.flavours?.prod?.exclude ?? []));
  return (m.extensions?.builtin ?? []).map(extensionName).filter((n) => drop.has(n));
}

function localExtension(l: LocalExtensionSpec): LocalExtension {
  const common = {
    ...(l.dep === "auto" ? { dep: [], autoDep: true as const } : { dep: (l.dep ?? []).map(extensionName) }),
    load: l.load ?? "builtin",
  };
  if ("from" in l) return { name: extensionName(l.name), from: l.from, ...common };
  const name = extensionName(l.name ?? l.file.split("/").pop()!);
  return { name, file: l.file, sha256: l.sha256, ...common };
}

export function resolveManifest(m: Manifest, s: ManifestSettings): ResolvedManifest {
  const base = m.base ?? {};
  const isoUrl = s.baseUrl;
  const dropped = new Set(flavourDrops(m));
  return {
    name: m.name,
    ...(m.version !== undefined ? { version: m.version } : {}),
    flavour: m.flavour ?? "dev",
    epoch: s.epoch,
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
    mirror: s.mirror,
    ...(m.kernel ? { kernel: m.kernel } : {}),
    extensions: {
      builtin: (m.extensions?.builtin ?? []).map(extensionName).filter((n) => !dropped.has(n)),
      mirror: (m.extensions?.mirror ?? []).map(extensionName),
      local: (m.extensions?.local ?? []).map(localExtension),
    },
    gems: {
      source: s.gemSource,
      require: m.gems?.require ?? [],
    },
    files: (m.files ?? []).map((f) => withDefaults(f, "0:0")),
    ...(m.kernel_modules?.length
      ? {
          kernel_modules: m.kernel_modules.map((k) => ({
            ...k,
            path:
              k.path ??
              `kernel/extra/${("source" in k ? k.source : "url" in k ? k.url : k.extract.path).split("/").pop()!}`,
            load: k.load ?? ("auto" as const),
          })),
        }
      : {}),
    services: (m.services ?? []).map((s) => ({ ...s, log: s.log ?? `/var/log/${s.name}.log` })),
    ...(m.password ? { password: m.password } : {}),
    flavours: { prod: { exclude: (m.flavours?.prod?.exclude ?? []).map(extensionName) } },
    boot: {
      append: m.boot?.append ?? [],
      ...(m.boot?.timeout !== undefined ? { timeout: m.boot.timeout } : {}),
      ...(m.boot?.volume_id ? { volume_id: m.boot.volume_id } : {}),
      ...(m.boot?.uefi ? { uefi: m.boot.uefi } : {}),
    },
    ...(m.persist ? { persist: resolvePersist(m.persist, m.name) } : {}),
    ...(m.prune?.length ? { prune: m.prune } : {}),
    ...(m.budget && Object.keys(m.budget).length
      ? { budget: Object.fromEntries(Object.entries(m.budget).map(([k, v]) => [k, sizeInBytes(v)!])) }
      : {}),
    ...(m.checks?.libraries === false ? { checks: { libraries: false as const } } : {}),
  };
}

function resolvePersist(p: NonNullable<Manifest["persist"]>, name: string): NonNullable<ResolvedManifest["persist"]> {
  return {
    size: sizeInBytes(p.size)!,
    paths: p.paths ?? ["home", "opt"],
    label: p.label ?? name.slice(0, 16),
    // tc:staff: Tiny Core's user owns /home/tc and (by group) /opt.
    seed: (p.seed ?? []).map((f) => withDefaults(f, TC_OWNER)),
  };
}

const withDefaults = (f: FileSpec, owner: string): ResolvedFile => ({
  ...f,
  mode: f.mode ?? "0644",
  owner: f.owner ?? owner,
});

/** The boot codes that mount the data partition where Tiny Core keeps home and opt (tc-config). */
const persistCodes = (m: Pick<ResolvedManifest, "persist">): string[] =>
  m.persist ? m.persist.paths.map((p) => `${p}=LABEL=${m.persist!.label}`) : [];

/** boot.append and the codes the manifest's other keys add: the codes the image boots with. */
export const bootCodes = (m: Pick<ResolvedManifest, "boot" | "persist">): string[] => [
  ...m.boot.append,
  ...persistCodes(m),
];

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
