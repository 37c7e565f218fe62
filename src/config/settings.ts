// Every setting mkbundle has, in one table: its name, where it may come from (a command-line
// option, a manifest key, an environment variable) in which order, how a value is checked,
// its default, and a line saying what it does. config.ts resolves the table once per run;
// `mkbundle show` prints each value with the place it came from. (mkosi's model.)
import { usageError } from "../errors.js";
import { mirrorRoot } from "../tinycore/mirror-layout.js";
import { DEFAULT_GEM_SOURCE, PUBLIC_MIRROR } from "../manifest/types.js";
import { ACCEL_MODES, type AccelMode } from "../qemu/accel.js";

type SourceKind = "cli" | "manifest" | "env" | "default";

export interface Source {
  kind: SourceKind;
  /** "--mirror", "mirror", "MK_BUNDLE_TCL_MIRROR_URI", "default". */
  name: string;
}

type Raw = string | number | boolean;

export interface Setting<T> {
  doc: string;
  cli?: string;
  /** A key path of the manifest as written, e.g. "gems.source". */
  manifest?: string;
  /** An environment variable, or several spellings of one, the first set winning (http_proxy, HTTP_PROXY). */
  env?: string | readonly string[];
  /** The sources in the order a value is taken from; command line, manifest, environment by default. */
  order?: readonly Exclude<SourceKind, "default">[];
  /** A value from `from` (an option, a key, a variable), checked: a bad one is a usage error naming `from`. */
  parse(raw: Raw, from: string): T;
  default?: T;
  /** Never printed: `show` says only that it is set. */
  secret?: boolean;
}

const setting = <T>(s: Setting<T>): Setting<T> => s;

const text = (raw: Raw): string => String(raw).trim();
const nonEmpty = (raw: Raw, from: string): string => {
  const s = text(raw);
  if (!s) throw usageError(`${from} is empty`, "unset it, or give a value");
  return s;
};
const flag = (raw: Raw): boolean => raw === true || raw === "1" || raw === "true";
const wholeNumber =
  (min: number, max = Number.MAX_SAFE_INTEGER) =>
  (raw: Raw, from: string): number => {
    const n = typeof raw === "number" ? raw : /^\d{1,16}$/.test(text(raw)) ? Number(text(raw)) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max)
      throw usageError(`${from} '${String(raw).slice(0, 40)}' is not a whole number from ${min} to ${max}`);
    return n;
  };

/** 2020-01-01: the file time when neither SOURCE_DATE_EPOCH nor the manifest's epoch is set. */
const DEFAULT_EPOCH = 1577836800;
/** Every writer stores times in 32 bits (newc, squashfs, ISO 9660 up to 2155), or more. */
const MAX_EPOCH = 2 ** 32 - 1;

const UNITS: Record<string, number> = { "": 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/** "4G", "512M", "1000000": a positive whole number with an optional binary unit. */
const size = (raw: Raw, from: string): number => {
  const m = /^\s*(\d{1,15})\s*([KMGT]?)i?B?\s*$/i.exec(String(raw));
  const n = m ? Number(m[1]) * UNITS[m[2]!.toUpperCase()]! : NaN;
  if (!Number.isSafeInteger(n) || n <= 0)
    throw usageError(
      `${from} '${String(raw).slice(0, 40)}' is not a size (a whole number of bytes, or with K, M, G or T)`,
      "unset it to use the default",
      from,
    );
  return n;
};

export const SETTINGS = {
  mirror: setting<string>({
    doc: "the Tiny Core mirror: an http(s) URL, a file:// URL or a local directory",
    cli: "--mirror",
    manifest: "mirror",
    env: "MK_BUNDLE_TCL_MIRROR_URI",
    // Razor's variable named the tcz directory itself (…/4.x/x86/tcz): its root is the mirror.
    parse: (raw, from) => (from === "MK_BUNDLE_TCL_MIRROR_URI" ? mirrorRoot(nonEmpty(raw, from)) : nonEmpty(raw, from)),
    default: PUBLIC_MIRROR,
  }),
  epoch: setting<number>({
    doc: "the time stamped on every file and in every date an output records (seconds since 1970)",
    manifest: "epoch",
    env: "SOURCE_DATE_EPOCH",
    // The reproducible-builds convention: SOURCE_DATE_EPOCH beats what the input says.
    order: ["env", "manifest"],
    parse: (raw, from) => {
      if (typeof raw === "number") return raw; // the schema has checked the manifest's
      if (!/^\d{1,10}$/.test(text(raw)) || Number(text(raw)) > MAX_EPOCH)
        throw usageError(
          `${from}='${String(raw).slice(0, 40)}' is not a time mkbundle can use`,
          `whole seconds since 1970, 0 to ${MAX_EPOCH}, e.g. SOURCE_DATE_EPOCH=$(git log -1 --format=%ct)`,
          from,
        );
      return Number(text(raw));
    },
    default: DEFAULT_EPOCH,
  }),
  baseUrl: setting<string | undefined>({
    doc: "where the base ISO comes from, instead of the mirror's release directory",
    manifest: "base.url",
    env: "MK_BUNDLE_TCL_ISO_URL",
    parse: (raw) => text(raw) || undefined,
  }),
  gemSource: setting<string>({
    doc: "the compact-index gem source gems are resolved against",
    manifest: "gems.source",
    env: "MK_BUNDLE_GEM_SERVER_URI",
    parse: nonEmpty,
    default: DEFAULT_GEM_SOURCE,
  }),
  workDir: setting<string>({
    doc: "the work directory: the download cache and the layer cache",
    cli: "--work-dir",
    parse: nonEmpty,
    default: "tmp-build-dir",
  }),
  out: setting<string>({ doc: "the output directory", cli: "--out", parse: nonEmpty, default: "build-files" }),
  offline: setting<boolean>({ doc: "use only the download cache", cli: "--offline", parse: flag, default: false }),
  jobs: setting<number>({ doc: "parallel downloads", cli: "--jobs", parse: wholeNumber(1), default: 4 }),
  downloadTimeout: setting<number>({
    doc: "the longest one download may take, retries included (seconds)",
    cli: "--download-timeout",
    parse: wholeNumber(1),
    default: 600,
  }),
  cacheRegistry: setting<string | undefined>({
    doc: "an OCI registry repository that shares the download cache",
    cli: "--cache-registry",
    env: "MKBUNDLE_CACHE_REGISTRY",
    parse: (raw) => text(raw) || undefined,
  }),
  plainHttp: setting<boolean>({
    doc: "talk to registries over plain HTTP (a local test registry)",
    cli: "--plain-http",
    env: "MKBUNDLE_REGISTRY_PLAIN_HTTP",
    parse: flag,
    default: false,
  }),
  registryHost: setting<string | undefined>({
    doc: "the registry MKBUNDLE_REGISTRY_USERNAME/PASSWORD are for, and no other (default: the one the command names)",
    env: "MKBUNDLE_REGISTRY_HOST",
    parse: (raw) => text(raw) || undefined,
  }),
  registryTokenHosts: setting<string[]>({
    doc: "token services on other hosts that may receive the registry login (host[:port], comma-separated)",
    env: "MKBUNDLE_REGISTRY_TOKEN_HOSTS",
    parse: (raw) =>
      text(raw)
        .split(",")
        .map((h) => h.trim())
        .filter(Boolean),
    default: [],
  }),
  registryUsername: setting<string | undefined>({
    doc: "a registry login's user",
    env: "MKBUNDLE_REGISTRY_USERNAME",
    parse: (raw) => text(raw) || undefined,
  }),
  registryPassword: setting<string | undefined>({
    doc: "a registry login's password",
    env: "MKBUNDLE_REGISTRY_PASSWORD",
    parse: (raw) => String(raw),
    secret: true,
  }),
  signKeyPassword: setting<string | undefined>({
    doc: "the passphrase of an encrypted PEM key given to push --sign-key",
    env: "MKBUNDLE_SIGN_KEY_PASSWORD",
    parse: (raw) => String(raw),
    secret: true,
  }),
  maxEntries: setting<number>({
    doc: "entries one opened container (ISO, initrd, .tcz, tar, FAT) may list",
    env: "MKBUNDLE_MAX_ENTRIES",
    parse: (raw, from) => {
      const n = /^\s*\d{1,15}\s*$/.test(String(raw)) ? Number(raw) : NaN;
      if (!(Number.isSafeInteger(n) && n > 0))
        throw usageError(
          `${from} '${String(raw).slice(0, 40)}' is not a positive whole number`,
          "unset it to use the default",
          from,
        );
      return n;
    },
    default: 1_000_000,
  }),
  maxBytes: setting<number>({
    doc: "bytes one opened container's files may hold, and one gzip stream may expand to",
    env: "MKBUNDLE_MAX_BYTES",
    parse: size,
    default: 4 * 1024 ** 3,
  }),
  maxMetadata: setting<number>({
    doc: "bytes of directories and tables one reading may visit (each visit counted)",
    env: "MKBUNDLE_MAX_METADATA",
    parse: size,
    default: 256 * 1024 ** 2,
  }),
  accel: setting<AccelMode>({
    doc: "QEMU's accelerator: auto (KVM when a test guest runs under it), kvm or tcg",
    cli: "--accel",
    env: "MKBUNDLE_ACCEL",
    parse: (raw, from) => {
      const v = text(raw);
      if (!(ACCEL_MODES as readonly string[]).includes(v))
        throw usageError(`${from} '${v}' is not an accelerator`, "use auto, kvm or tcg", from);
      return v as AccelMode;
    },
    default: "auto",
  }),
  qemu: setting<string>({
    doc: "the QEMU binary",
    env: "MKBUNDLE_QEMU",
    parse: nonEmpty,
    default: "qemu-system-x86_64",
  }),
  kvmDevice: setting<string>({
    doc: "the KVM device",
    env: "MKBUNDLE_KVM_DEVICE",
    parse: nonEmpty,
    default: "/dev/kvm",
  }),
  ovmf: setting<string | undefined>({
    doc: "UEFI firmware (OVMF's code image) for run/test --uefi (default: searched where distributions install it)",
    env: "MKBUNDLE_OVMF",
    parse: (raw) => text(raw) || undefined,
  }),
  path: setting<string>({ doc: "where programs (QEMU) are looked for", env: "PATH", parse: String, default: "" }),
  httpProxy: setting<string>({
    doc: "the proxy for http:// downloads",
    env: ["http_proxy", "HTTP_PROXY"],
    parse: text,
    default: "",
  }),
  httpsProxy: setting<string>({
    doc: "the proxy for https:// downloads (default: the http one)",
    env: ["https_proxy", "HTTPS_PROXY"],
    parse: text,
    default: "",
  }),
  noProxy: setting<string>({
    doc: "hosts downloads reach without the proxy",
    env: ["no_proxy", "NO_PROXY"],
    parse: text,
    default: "",
  }),
} as const;

export type SettingKey = keyof typeof SETTINGS;
export type SettingValues = { [K in SettingKey]: (typeof SETTINGS)[K] extends Setting<infer T> ? T : never };

/** The first source (in the setting's order) that has a value, parsed; else the default. */
export function resolveSetting<T>(
  s: Setting<T>,
  given: { cli?: Raw; manifest?: Raw; env?: { name: string; value: string } },
): { value: T | undefined; source: Source } {
  for (const kind of s.order ?? (["cli", "manifest", "env"] as const)) {
    const raw = kind === "env" ? given.env?.value : given[kind];
    const name = kind === "cli" ? s.cli : kind === "manifest" ? s.manifest : given.env?.name;
    if (raw === undefined || name === undefined || (kind === "env" && raw === "")) continue;
    return { value: s.parse(raw, name), source: { kind, name } };
  }
  return { value: s.default, source: { kind: "default", name: "default" } };
}
