// Razor's command line (-b -m -p -d -t -c, Hanlon's -l -a), its -c file and MK_BUNDLE_* variables -> an
// in-memory manifest that goes through the same checks and pipeline as a manifest file.
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";
import { readTextFile } from "./text-file.js";
import { hasErrors, MkError, problem, type Diagnostic } from "../errors.js";
import type { LoadedManifest } from "./input.js";
import { checkManifestData } from "./load.js";
import { parseExtensionList, type ListedExtension } from "./extension-list.js";
import { parseRazorConfig, RAZOR_SETTINGS, type ConfigValue } from "./razor-config.js";
import type { Locator } from "./schema.js";
import type { Flavour, Manifest } from "./types.js";
import { mirrorRoot, mirrorSeries } from "../tinycore/mirror-layout.js";

export interface RazorFlags {
  builtinList?: string;
  mirrorList?: string;
  /** Hanlon's -l: prebuilt .tcz files, one path a line (relative to the list), loaded at boot. */
  localExtents?: string;
  /** Hanlon's -a: "<local .tcz> <module file> <path under lib/modules/<release>/kernel/drivers/>" lines. */
  addtnlKmods?: string;
  buildProdImage?: boolean;
  buildDebugImage?: boolean;
  tcPasswd?: string;
  config?: string;
  reusePrevDl?: boolean;
  arch?: string;
  release?: string;
}

type Setting = (typeof RAZOR_SETTINGS)[number];

/** The flags that set a setting, for messages about where a value came from. */
const CLI_FLAG: Partial<Record<Setting, string>> = {
  MK_BUNDLE_BUILTIN_LIST: "-b/--builtin-list",
  MK_BUNDLE_MIRROR_LIST: "-m/--mirror-list",
  MK_BUNDLE_TC_PASSWD: "-t/--tc-passwd",
  MK_BUNDLE_TYPE: "-p/-d",
  MK_BUNDLE_TCL_ARCH: "--arch",
  MK_BUNDLE_TCL_RELEASE: "--release",
};
type Env = Readonly<Record<string, string | undefined>>;

export interface RazorInput {
  /** Built even when there are diagnostics, so that they can be checked together. */
  manifest: Manifest;
  /** Effective MK_BUNDLE_* settings (command line > -c file > environment); the password lives here, never in the manifest. */
  settings: Record<string, string>;
  locate: Locator;
  diagnostics: Diagnostic[];
  /** True when the flags, config and environment are unusable before any manifest check. */
  usageError: boolean;
}

export const RAZOR_NAME = "razor-microkernel";
const COMMAND_LINE = "mkbundle";

export function razorInput(flags: RazorFlags, env: Env): RazorInput {
  const diagnostics: Diagnostic[] = [];
  const usage = (message: string, hint?: string) => diagnostics.push(problem(COMMAND_LINE, message, hint));

  if (flags.buildProdImage && flags.buildDebugImage)
    usage(
      "cannot specify both -d and -p",
      "an image is either prod (-p, --build-prod-image) or debug (-d, --build-debug-image), not both",
    );

  // -c FILE
  let config = new Map<string, ConfigValue>();
  if (flags.config) {
    const text = readText(flags.config, "config file", diagnostics);
    if (text !== undefined) {
      const parsed = parseRazorConfig(flags.config, text);
      config = parsed.values;
      diagnostics.push(...parsed.diagnostics);
    }
  }
  const fromCli: Partial<Record<Setting, string>> = {
    ...(flags.builtinList ? { MK_BUNDLE_BUILTIN_LIST: flags.builtinList } : {}),
    ...(flags.mirrorList ? { MK_BUNDLE_MIRROR_LIST: flags.mirrorList } : {}),
    ...(flags.arch ? { MK_BUNDLE_TCL_ARCH: flags.arch } : {}),
    ...(flags.release ? { MK_BUNDLE_TCL_RELEASE: flags.release } : {}),
    ...(flags.tcPasswd !== undefined ? { MK_BUNDLE_TC_PASSWD: flags.tcPasswd } : {}),
    ...(flags.buildProdImage ? { MK_BUNDLE_TYPE: "prod" } : flags.buildDebugImage ? { MK_BUNDLE_TYPE: "debug" } : {}),
  };
  const settings: Record<string, string> = {};
  const origin: Record<string, string> = {};
  for (const key of RAZOR_SETTINGS) {
    const cli = fromCli[key];
    const cfg = config.get(key);
    const envValue = env[key];
    if (cli !== undefined) [settings[key], origin[key]] = [cli, CLI_FLAG[key] ?? key];
    else if (cfg) [settings[key], origin[key]] = [cfg.value, `${flags.config}:${cfg.line}`];
    else if (envValue !== undefined && envValue !== "")
      [settings[key], origin[key]] = [envValue, `environment variable ${key}`];
  }

  const type = settings["MK_BUNDLE_TYPE"] ?? "dev";
  let flavour: Flavour = "dev";
  if (type === "dev" || type === "prod" || type === "debug") flavour = type;
  else
    usage(
      `MK_BUNDLE_TYPE '${type}' (from ${origin["MK_BUNDLE_TYPE"]}) is not a bundle type`,
      "expected prod, dev or debug",
    );

  const builtinFile = settings["MK_BUNDLE_BUILTIN_LIST"];
  const mirrorFile = settings["MK_BUNDLE_MIRROR_LIST"];
  if (!builtinFile || !mirrorFile) {
    const missing = [!builtinFile && "-b/--builtin-list", !mirrorFile && "-m/--mirror-list"]
      .filter(Boolean)
      .join(" and ");
    usage(
      `missing ${missing}`,
      "both the builtin list and the mirror list are required; MK_BUNDLE_BUILTIN_LIST and MK_BUNDLE_MIRROR_LIST may name them",
    );
  }
  const builtin = builtinFile ? readList(builtinFile, diagnostics) : [];
  const mirror = mirrorFile ? readList(mirrorFile, diagnostics) : [];
  const local = flags.localExtents ? readLocalList(flags.localExtents, diagnostics) : [];
  const kmods = flags.addtnlKmods ? readKmodList(flags.addtnlKmods, diagnostics) : [];

  let password: string | undefined = settings["MK_BUNDLE_TC_PASSWD"];
  if (password !== undefined && flavour === "prod") {
    diagnostics.push({
      ...problem(
        COMMAND_LINE,
        `a 'tc' password cannot be set for a prod image; the password from ${origin["MK_BUNDLE_TC_PASSWD"]} is ignored`,
      ),
      severity: "warning",
    });
    password = undefined;
    delete settings["MK_BUNDLE_TC_PASSWD"];
  }
  if (password !== undefined && /^(c-passwd=|=)/.test(password)) {
    diagnostics.push({
      ...problem(
        COMMAND_LINE,
        "the tc password starts with '=' or 'c-passwd='",
        "did an '=' or a mistyped --tc-passwd end up in the value?",
      ),
      severity: "warning",
    });
  }

  const mirrorSetting = settings["MK_BUNDLE_TCL_MIRROR_URI"];
  // Razor's variable named the tcz directory itself (…/4.x/x86/tcz): it says the series and
  // arch unless MK_BUNDLE_TCL_RELEASE/MK_BUNDLE_TCL_ARCH (or --release/--arch) do.
  const series = mirrorSetting ? mirrorSeries(mirrorSetting) : undefined;
  const arch = settings["MK_BUNDLE_TCL_ARCH"] ?? series?.arch ?? "x86";
  if (arch !== "x86" && arch !== "x86_64")
    usage(
      `MK_BUNDLE_TCL_ARCH '${arch}' (from ${origin["MK_BUNDLE_TCL_ARCH"]}) is not an architecture mkbundle builds`,
      "expected x86 or x86_64",
    );
  const release = settings["MK_BUNDLE_TCL_RELEASE"] ?? series?.release ?? "4.x";
  if (!/^[0-9]+\.x$/.test(release))
    usage(
      `MK_BUNDLE_TCL_RELEASE '${release}' (from ${origin["MK_BUNDLE_TCL_RELEASE"]}) is not a Tiny Core series`,
      "expected a series directory of the mirror, like 4.x or 10.x",
    );
  const manifest: Manifest = {
    name: RAZOR_NAME,
    flavour,
    base: {
      release,
      arch: arch === "x86_64" ? "x86_64" : "x86",
      ...(settings["MK_BUNDLE_TCL_ISO_URL"] ? { url: settings["MK_BUNDLE_TCL_ISO_URL"] } : {}),
    },
    ...(mirrorSetting ? { mirror: mirrorRoot(mirrorSetting) } : {}),
    extensions: {
      builtin: builtin.map((e) => e.name),
      mirror: mirror.map((e) => e.name),
      ...(local.length ? { local: local.map((l) => ({ file: l.file, sha256: l.sha256 })) } : {}),
    },
    ...(kmods.length ? { kernel_modules: kmods.map((k) => k.module) } : {}),
    ...(settings["MK_BUNDLE_GEM_SERVER_URI"] ? { gems: { source: settings["MK_BUNDLE_GEM_SERVER_URI"] } } : {}),
    ...(password !== undefined ? { password: { env: "MK_BUNDLE_TC_PASSWD" } } : {}),
  };

  const locate: Locator = (path) => {
    const [top, role, index] = path;
    if (top === "extensions" && role === "local" && typeof index === "number" && flags.localExtents)
      return { file: flags.localExtents, line: local[index]?.line ?? 0, column: 1 };
    if (top === "kernel_modules" && typeof role === "number" && flags.addtnlKmods)
      return { file: flags.addtnlKmods, line: kmods[role]?.line ?? 0, column: 1 };
    if (top === "extensions" && (role === "builtin" || role === "mirror") && typeof index === "number") {
      const e: ListedExtension | undefined = (role === "builtin" ? builtin : mirror)[index];
      const file = role === "builtin" ? builtinFile : mirrorFile;
      if (e && file) return { file, line: e.line, column: e.column };
    }
    return { file: COMMAND_LINE, line: 0, column: 0 };
  };
  const usageError = diagnostics.some((d) => d.severity === "error");
  return { manifest, settings, locate, diagnostics, usageError };
}

function readText(file: string, what: string, diagnostics: Diagnostic[]): string | undefined {
  const read = readTextFile(file, what);
  if (read.problem) diagnostics.push(read.problem);
  return read.text;
}

function readList(file: string, diagnostics: Diagnostic[]): ListedExtension[] {
  const text = readText(file, "extension list", diagnostics);
  if (text === undefined) return [];
  const parsed = parseExtensionList(file, text);
  diagnostics.push(...parsed.diagnostics);
  return parsed.extensions;
}

/**
 * -l FILE: each line a .tcz path, relative to the list. Razor's flow writes no lock, so each
 * file is pinned by the sha256 it has now (the bundle records it); its .dep beside it is read.
 */
function readLocalList(file: string, diagnostics: Diagnostic[]): { file: string; sha256: string; line: number }[] {
  const text = readText(file, "local extension list", diagnostics);
  if (text === undefined) return [];
  const out: { file: string; sha256: string; line: number }[] = [];
  text.split("\n").forEach((raw, i) => {
    const line = raw.replace(/#.*$/, "").trim();
    if (!line) return;
    const at = { ...problem(file, ""), line: i + 1, column: 1 };
    if (!line.endsWith(".tcz")) return void diagnostics.push({ ...at, message: `'${line}' is not a .tcz file` });
    const path = listedPath(file, line);
    if (!path) return void diagnostics.push({ ...at, message: `${line} does not exist (beside the list or here)` });
    const sha256 = createHash("sha256").update(readFileSync(path)).digest("hex");
    out.push({ file: relative(process.cwd(), path), sha256, line: i + 1 });
  });
  return out;
}

/**
 * A list's path: beside the list when it is there, else from the current directory (Hanlon's
 * lists, in additional-build-files/, name extra-driver-files/... from the project's root).
 */
function listedPath(list: string, line: string): string | undefined {
  return [resolve(dirname(list), line), resolve(line)].find((p) => existsSync(p));
}

/**
 * -a FILE (Hanlon's --addtnl-kmods): "<.tcz> <module file> <path under kernel/drivers/>" a line,
 * as additional-build-files/addtnl-driver-mods.lst has them; each a kernel_modules: entry
 * taking the module out of that .tcz.
 */
function readKmodList(
  file: string,
  diagnostics: Diagnostic[],
): { module: NonNullable<Manifest["kernel_modules"]>[number]; line: number }[] {
  const text = readText(file, "kernel module list", diagnostics);
  if (text === undefined) return [];
  const out: { module: NonNullable<Manifest["kernel_modules"]>[number]; line: number }[] = [];
  text.split("\n").forEach((raw, i) => {
    const fields = raw.replace(/#.*$/, "").trim().split(/\s+/).filter(Boolean);
    if (!fields.length) return;
    const at = { ...problem(file, ""), line: i + 1, column: 1 };
    const [tcz, module, target] = fields;
    if (fields.length !== 3 || !tcz || !module || !target)
      return void diagnostics.push({
        ...at,
        message: `expected three fields, '<extension.tcz> <module.ko> <path under kernel/drivers/>', found ${fields.length}`,
      });
    const path = listedPath(file, tcz);
    if (!path) return void diagnostics.push({ ...at, message: `${tcz} does not exist (beside the list or here)` });
    out.push({
      module: { extract: { file: relative(process.cwd(), path), path: module }, path: `kernel/drivers/${target}` },
      line: i + 1,
    });
  });
  return out;
}

const USAGE = problem(
  "usage",
  "mkbundle -b FILE -m FILE [-l FILE] [-a FILE] [-p | -d] [-t PASSWD] [-c CONFIG] [-r] [-v] [-n]",
  "or a manifest: mkbundle build FILE; see mkbundle --help",
);

/**
 * Razor's command line, -c file and environment as a loaded manifest (checked like a file's,
 * rooted at `dir`), and the MK_BUNDLE_* settings they set, which the environment's yield to.
 * Any error is an MkError listing every problem; warnings come back with the manifest.
 */
export function razorManifest(
  flags: RazorFlags,
  env: Env,
  dir: string,
): { loaded: LoadedManifest; settings: Record<string, string> } {
  const razor = razorInput(flags, env);
  if (razor.usageError) throw new MkError("usage", [...razor.diagnostics, USAGE]);
  const checked = checkManifestData(razor.manifest, { locate: razor.locate, baseDir: dir });
  const diagnostics = [...razor.diagnostics, ...checked.diagnostics];
  if (hasErrors(diagnostics) || !checked.manifest) throw new MkError("manifest", diagnostics);
  return {
    loaded: { written: checked.manifest, dir, locate: razor.locate, warnings: diagnostics },
    settings: razor.settings,
  };
}
