// The overlay tarball (named by its own sha256) and the bundle: bundle.json, the overlay
// and the base ISO, everything rebuild-iso needs and nothing host-specific.
import { createHash } from "node:crypto";
import { mkdirSync } from "node:fs";
import { basename, join } from "node:path";
import { gzip, defaultThreads } from "../formats/gzip/writer.js";
import { gzipByContent } from "../formats/gzip/by-content.js";
import { writeTar } from "../formats/tar/writer.js";
import type { Lock } from "../lock/lock-file.js";
import { withoutSecrets } from "../manifest/resolve.js";
import type { ResolvedManifest } from "../manifest/types.js";
import type { Entry } from "../tree/entry.js";
import { reproducible } from "../tree/reproducible.js";
import { packageVersion } from "../util/package-version.js";
import { writeIfChanged } from "../util/write-atomic.js";

export interface BundleJson {
  bundleVersion: 1;
  mkbundle: string;
  name: string;
  flavour: ResolvedManifest["flavour"];
  version?: string;
  epoch: number;
  manifest: ResolvedManifest;
  lock: Lock;
  overlay: string;
  base: string;
  /** sha256 of every other member. */
  members: Record<string, string>;
}

export interface WrittenFile {
  path: string;
  sha256: string;
  size: number;
  /** False when an identical file was already there: an unchanged build rewrites nothing. */
  written: boolean;
}

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

/** Writes unless the same bytes are already there. */
async function put(path: string, bytes: Buffer): Promise<WrittenFile> {
  return { path, ...(await writeIfChanged(path, [bytes])) };
}

export async function overlayTarball(entries: readonly Entry[], epoch: number): Promise<Buffer> {
  return gzip(await writeTar(reproducible(entries, { epoch })), { level: 9, threads: defaultThreads() });
}

export const bundleFileName = (m: ResolvedManifest): string => `${m.name}-bundle-${m.flavour}.tar.gz`;

export async function writeOverlay(out: string, tarball: Buffer): Promise<WrittenFile> {
  mkdirSync(out, { recursive: true });
  return put(join(out, `overlay-${sha256(tarball)}.tar.gz`), tarball);
}

export async function writeBundle(
  out: string,
  m: ResolvedManifest,
  lock: Lock,
  overlay: { name: string; bytes: Buffer },
  baseIso: Buffer,
  epoch: number,
): Promise<{ file: WrittenFile; json: BundleJson }> {
  const base = basename(new URL(lock.base.url).pathname) || "base.iso";
  const json: BundleJson = {
    bundleVersion: 1,
    mkbundle: packageVersion(),
    name: m.name,
    flavour: m.flavour,
    ...(m.version ? { version: m.version } : {}),
    epoch,
    manifest: withoutSecrets(m),
    lock,
    overlay: overlay.name,
    base,
    members: { [overlay.name]: sha256(overlay.bytes), [base]: lock.base.sha256 },
  };
  const member = (path: string, data: Buffer): Entry => ({
    path,
    type: "file",
    mode: 0o644,
    uid: 0,
    gid: 0,
    mtime: epoch,
    size: data.length,
    data,
  });
  const jsonBytes = Buffer.from(JSON.stringify(json, null, 2) + "\n");
  const tar = await writeTar([
    member("bundle.json", jsonBytes),
    member(overlay.name, overlay.bytes),
    member(base, baseIso),
  ]);
  // The overlay and the ISO are compressed already: stored, they cost nothing to read back.
  const at = tar.indexOf(overlay.bytes.subarray(0, 64));
  const bytes = await gzipByContent(
    at > 0
      ? [tar.subarray(0, at), tar.subarray(at, at + overlay.bytes.length), tar.subarray(at + overlay.bytes.length)]
      : [tar],
  );
  mkdirSync(out, { recursive: true });
  return { file: await put(join(out, bundleFileName(m)), bytes), json };
}
