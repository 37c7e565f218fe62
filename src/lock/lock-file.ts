// The lock file: <manifest dir>/<manifest name>.lock, YAML, stable, schema-checked.
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { basename, dirname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { yamlLib } from "../io/lazy.js";
import { capDiagnostics, hasErrors, MkError, type Diagnostic } from "../errors.js";
import { validateAgainstSchema } from "../manifest/schema.js";
import { extensionName, type ResolvedManifest } from "../manifest/types.js";
import { readTextFile } from "../manifest/text-file.js";
import { parseYaml, positionOf } from "../manifest/yaml-source.js";

export interface LockedExtension {
  name: string;
  role: "builtin" | "mirror" | "extract";
  requiredBy: string[];
  deps: string[];
  size: number;
  md5: string;
  sha256: string;
  files?: Partial<Record<".dep" | ".info" | ".list", string>>;
  /** extensions.local: the directory it is built from, or its .tcz (relative to the lock's directory). */
  local?: string;
}

export interface LockedGem {
  name: string;
  version: string;
  sha256: string;
  requiredBy: string[];
}

export interface Lock {
  lockVersion: 1;
  inputs: string;
  manifest: string;
  mirror: string;
  release: string;
  arch: string;
  kernel?: string;
  kernelSource?: "manifest" | "initrd lib/modules" | "bzImage header";
  base: { url: string; sha256: string; size: number };
  /** A distribution-files base: its pinned parts; base is the ISO assembled from them. */
  baseParts?: { path: string; url: string; sha256: string; size: number }[];
  /** boot.uefi's loader, when it is a file or URL (an extension's file is pinned with the extension). */
  uefiLoader?: { url: string; sha256: string; size: number };
  /** kernel_modules given as a file or URL, in manifest order. */
  kernelModules?: { url: string; sha256: string; size: number }[];
  extensions: LockedExtension[];
  gemSource?: string;
  gems: LockedGem[];
}

/** manifests/razor-dev.yaml -> manifests/razor-dev.lock */
export const lockPathFor = (manifestFile: string): string =>
  join(dirname(manifestFile), `${basename(manifestFile).replace(/\.ya?ml$/i, "")}.lock`);

/** Extensions that files: entries (kernel_modules, boot.uefi's loader) take files out of, in first-use order. */
export function extractSources(m: ResolvedManifest): string[] {
  const names = [...m.files, ...(m.kernel_modules ?? [])].flatMap((f) =>
    "extract" in f && "extension" in f.extract ? [extensionName(f.extract.extension)] : [],
  );
  const loader = m.boot.uefi?.loader;
  if (loader && "extension" in loader) names.push(extensionName(loader.extension));
  return [...new Set(names)];
}

/** kernel_modules given as a file or URL with a sha256, in manifest order. */
export const moduleDownloads = (m: ResolvedManifest): { url: string; sha256: string }[] =>
  (m.kernel_modules ?? []).flatMap((k) => ("url" in k ? [{ url: k.url, sha256: k.sha256 }] : []));

/**
 * What the pins depend on. The mirror is left out on purpose: an air-gapped copy of the
 * same mirror must satisfy the same lock (downloads are verified against it anyway).
 */
export function inputsDigest(m: ResolvedManifest): string {
  const inputs = {
    base: {
      release: m.base.release,
      arch: m.base.arch,
      iso: m.base.iso ?? null,
      url: m.base.url ?? null,
      sha256: m.base.sha256 ?? null,
      ...(m.base.kernel
        ? { kernel: m.base.kernel, initrds: m.base.initrds ?? [], isolinux: m.base.isolinux ?? null }
        : {}),
    },
    kernel: m.kernel ?? null,
    builtin: m.extensions.builtin,
    mirror: m.extensions.mirror,
    ...(m.extensions.local.length ? { local: m.extensions.local } : {}),
    extract: extractSources(m),
    ...(m.boot.uefi ? { uefi: m.boot.uefi.loader } : {}),
    ...(moduleDownloads(m).length ? { kernelModules: moduleDownloads(m) } : {}),
    gems: m.gems.require.length ? { source: m.gems.source, require: m.gems.require } : null,
  };
  return createHash("sha256").update(JSON.stringify(inputs)).digest("hex");
}

/**
 * The lock as written: local places (file:// URLs) recorded relative to the lock's own
 * directory, so that the same lock reads the same on another machine or checkout. Where
 * things come from is informational; what is built is decided by the sha256 pins.
 */
export function portableLock(lock: Lock, lockDir: string): Lock {
  const portable = (url: string) => {
    if (!/^file:\/\//i.test(url)) return url;
    const rel = relative(lockDir, fileURLToPath(url)).split(sep).join("/");
    return rel === "" ? "." : rel;
  };
  return {
    ...lock,
    mirror: portable(lock.mirror),
    base: { ...lock.base, url: portable(lock.base.url) },
    ...(lock.baseParts ? { baseParts: lock.baseParts.map((p) => ({ ...p, url: portable(p.url) })) } : {}),
    ...(lock.uefiLoader ? { uefiLoader: { ...lock.uefiLoader, url: portable(lock.uefiLoader.url) } } : {}),
    ...(lock.kernelModules ? { kernelModules: lock.kernelModules.map((k) => ({ ...k, url: portable(k.url) })) } : {}),
  };
}

export function renderLock(lock: Lock, manifestFile: string): string {
  const header = `# Lock for ${basename(manifestFile)}, written by \`mkbundle lock\`: every download pinned by sha256.\n# Do not edit; to re-resolve, run \`mkbundle lock --update\` on ${basename(manifestFile)} (beside this file).\n`;
  const { Document, isScalar, isSeq, visit } = yamlLib();
  const doc = new Document(lock);
  // Short lists of names on one line: `deps: [acl, attr]` reads better in a review.
  visit(doc, { Seq: (_k, seq) => void (isSeq(seq) && seq.items.every(isScalar) && (seq.flow = true)) });
  return header + doc.toString({ lineWidth: 0, flowCollectionPadding: false });
}

/** Every sha256 a lock references: what `cache gc` keeps. */
export function lockedDigests(lock: Lock): string[] {
  return [
    lock.base.sha256,
    ...(lock.baseParts ?? []).map((p) => p.sha256),
    ...(lock.uefiLoader ? [lock.uefiLoader.sha256] : []),
    ...(lock.kernelModules ?? []).map((k) => k.sha256),
    ...lock.extensions.flatMap((e) => [e.sha256, ...Object.values(e.files ?? {})]),
    ...lock.gems.map((g) => g.sha256),
  ];
}

const DAMAGED = "the lock file is damaged: run mkbundle lock --update";

export function readLock(file: string): Lock | undefined {
  if (!existsSync(file)) return undefined;
  const read = readTextFile(file, "lock file");
  if (read.problem) throw new MkError("input", { ...read.problem, hint: DAMAGED });
  const { source, diagnostics } = parseYaml(file, read.text);
  const problems: Diagnostic[] = [...diagnostics];
  if (!hasErrors(problems))
    problems.push(
      ...validateAgainstSchema("lock", source.data, { locate: (p, at) => ({ file, ...positionOf(source, p, at) }) }),
    );
  if (hasErrors(problems))
    throw new MkError(
      "input",
      capDiagnostics(problems, file).map((d) => ({
        ...d,
        hint: `${d.hint ? `${d.hint}; ` : ""}${DAMAGED}`,
      })),
    );
  return source.data as Lock;
}
