// The manifest as written (after schema validation) and as resolved (defaults filled in).
// Keep in step with schemas/manifest.schema.json.
export type Flavour = "dev" | "prod" | "debug";
export type Arch = "x86" | "x86_64";

export type FileSpec = {
  path: string;
  mode?: string;
  owner?: string;
} & ({ source: string } | { content: string } | { extract: { extension: string; path: string } });

interface ServiceSpec {
  name: string;
  run: string;
  log?: string;
  /** What happens when it exits: no (stays down; the default), on-failure (restarted when its status is not 0), always. */
  restart?: "no" | "on-failure" | "always";
  /** The account the command runs as (default root). */
  user?: string;
  environment?: Record<string, string | number | boolean>;
  /** NAME=value lines from a file next to the manifest; environment: wins over it. */
  env_file?: string;
  /** Seconds mkbundle-svc waits between SIGTERM and SIGKILL when it stops or restarts the service. */
  stop_timeout?: number;
  /** mkbundle dev: image paths (globs) whose live update restarts this service; default every changed file. */
  reload_on?: string[];
  /** Services that must be ready first. */
  depends_on?: string[];
  /** When it counts as ready: a listening TCP port, or a command that exits 0. */
  ready?: { port: number } | { command: string };
}

/** A local file or URL with its sha256. */
interface PinnedFile {
  url: string;
  sha256: string;
}

interface BaseSpec {
  release?: string;
  arch?: Arch;
  iso?: string;
  url?: string;
  sha256?: string;
  /** A distribution-files base: names under <release>/<arch>/release/distribution_files/. */
  kernel?: string;
  initrds?: string[];
  isolinux?: { bin: PinnedFile; ldlinux: PinnedFile; mbr?: PinnedFile };
}

/** A file inside an extension on the mirror. */
export interface ExtensionFile {
  extension: string;
  path: string;
}

/** UEFI boot: the EFI loader (systemd-boot) as a pinned download or a file of an extension. */
interface UefiSpec {
  loader: PinnedFile | ExtensionFile;
  /** Secure Boot: the PEM key and certificate the loader and kernel are signed with. */
  sign?: { key: string; cert: string };
}

type PasswordSpec = { env: string } | { file: string } | { hash: string };

export interface Manifest {
  name: string;
  version?: string;
  flavour?: Flavour;
  epoch?: number;
  base?: BaseSpec;
  mirror?: string;
  kernel?: string;
  extensions?: { builtin?: string[]; mirror?: string[]; local?: LocalExtensionSpec[] };
  gems?: { source?: string; require?: string[] };
  files?: FileSpec[];
  kernel_modules?: KernelModuleSpec[];
  services?: ServiceSpec[];
  password?: PasswordSpec;
  flavours?: { prod?: { exclude?: string[] } };
  boot?: { append?: string[]; timeout?: number; volume_id?: string; uefi?: UefiSpec };
  persist?: { size: string | number; paths?: PersistPath[]; label?: string; seed?: FileSpec[] };
  prune?: string[];
  budget?: { [K in BudgetKey]?: string | number };
  checks?: { libraries?: boolean };
}

/** What budget: can bound: the ISO's size, the initrds' compressed size, the RAM they unpack into. */
export type BudgetKey = "iso" | "initrd" | "ram";

type PersistPath = "home" | "opt";

/**
 * Everything the pipeline needs, defaults filled in and the flavour applied (prod's
 * extensions.builtin no longer holds openssh): what `mkbundle show` prints. Still a valid
 * manifest (schemas/manifest.schema.json).
 */
export interface ResolvedManifest {
  name: string;
  version?: string;
  flavour: Flavour;
  /** The build's time: SOURCE_DATE_EPOCH, else the manifest's, else 2020-01-01. */
  epoch: number;
  /** iso is set for an ISO base; kernel and initrds (and isolinux) for a distribution-files base. */
  base: BaseSpec & { release: string; arch: Arch };
  mirror: string;
  kernel?: string;
  extensions: { builtin: string[]; mirror: string[]; local: LocalExtension[] };
  gems: { source: string; require: string[] };
  files: ResolvedFile[];
  /** Each with its place under lib/modules/<release>/ and when it loads (only when there are any). */
  kernel_modules?: (KernelModuleSpec & { path: string; load: "auto" | "boot" })[];
  services: (ServiceSpec & { log: string })[];
  password?: PasswordSpec;
  flavours: { prod: { exclude: string[] } };
  boot: { append: string[]; timeout?: number; volume_id?: string; uefi?: UefiSpec };
  /** The data partition: its size in bytes, what lives there, its label, the files it starts with. */
  persist?: { size: number; paths: PersistPath[]; label: string; seed: ResolvedFile[] };
  /** Globs of base-initrd and builtin-extension files left out (only when there are any). */
  prune?: string[];
  /** Limits in bytes (only when the manifest sets any). */
  budget?: { [K in BudgetKey]?: number };
  /** Only when the manifest turns a check off. */
  checks?: { libraries: false };
}

/** kernel_modules: a driver from a file next to the manifest or out of an extension. */
type KernelModuleSpec = { path?: string; load?: "auto" | "boot" } & (
  { source: string } | { extract: ExtensionFile | { file: string; path: string } } | PinnedFile
);

/** kernel_modules: the .tcz or .deb next to the manifest a module comes out of, if that is where. */
export const localPackageOf = (k: KernelModuleSpec): { file: string; path: string } | undefined =>
  "extract" in k && "file" in k.extract ? k.extract : undefined;

/** A files: (or persist.seed) entry with its mode and owner settled. */
export type ResolvedFile = FileSpec & { mode: string; owner: string };

/** extensions.local as written: built from a directory, or a prebuilt .tcz pinned by sha256. */
export type LocalExtensionSpec =
  | { name: string; from: string; dep?: string[] | "auto"; load?: "builtin" | "mirror" }
  | { file: string; sha256: string; name?: string; dep?: string[] | "auto"; load?: "builtin" | "mirror" };

/** A local extension with its name and role settled (paths still relative to the manifest). */
export type LocalExtension = ({ name: string; from: string } | { name: string; file: string; sha256: string }) & {
  dep: string[];
  /** dep: auto: the .dep worked out from its programs' shared libraries at resolution. */
  autoDep?: true;
  load: "builtin" | "mirror";
};

/** The names each role starts its closure from: the lists, then the local extensions of that role. */
export const rootsOf = (m: ResolvedManifest, role: "builtin" | "mirror"): string[] => [
  ...m.extensions[role],
  ...m.extensions.local.filter((l) => l.load === role).map((l) => l.name),
];

/** The release directory's "current" ISO: Core on x86, CorePure64 on x86_64 (as on the public mirror). */
export const defaultIso = (arch: Arch): string => (arch === "x86_64" ? "CorePure64-current.iso" : "Core-current.iso");

export const PUBLIC_MIRROR = "http://distro.ibiblio.org/tinycorelinux";
export const DEFAULT_GEM_SOURCE = "https://rubygems.org";

/** What an extension's name may be (in a manifest, a list, a .dep file or a lock): never a path. */
export const EXTENSION_NAME = /^[A-Za-z0-9][A-Za-z0-9._+-]*$/;
/** What a gem's name and version may be (they become `gems/NAME-VERSION.gem`). */
export const GEM_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
export const GEM_VERSION = /^[0-9][0-9A-Za-z.]*$/;

/** "bash.tcz" and "bash" name the same extension. */
export const extensionName = (s: string): string => s.replace(/\.tcz$/, "");
