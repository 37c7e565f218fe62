// The overlay tarball (named by its own sha256) and the bundle: bundle.json, the overlay
// and the base ISO, everything rebuild-iso needs and nothing host-specific. Both are
// written as streams: memory does not grow with the overlay or the base.
import type { RuleEffect } from "../tree/prune.js";
import { bundleFileName } from "../outdir/names.js";
import { basename, join } from "node:path";
import { bufferSource, fileSource, type ByteSource } from "../io/byte-source.js";
import { hashSource } from "../io/hash.js";
import { defaultThreads, gzipStream } from "../formats/gzip/writer.js";
import { ensureDir } from "../io/ensure-dir.js";
import { tar } from "../formats/tar/codec.js";
import type { Lock } from "../lock/lock-file.js";
import { withoutSecrets } from "../manifest/resolve.js";
import type { ResolvedManifest } from "../manifest/types.js";
import type { Entry } from "../tree/entry.js";
import { packageVersion } from "../io/package-version.js";
import { writeContentAddressed, writeIfChanged } from "../io/write-atomic.js";
import { bundleBytes } from "../formats/bundle/container.js";
import { LOADER_MEMBER } from "./uefi-loader.js";

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
  /** persist.seed: the member holding what a new data partition starts with (a tar.gz, as the overlay). */
  seed?: string;
  /** boot.uefi: the member holding the EFI loader. */
  uefiLoader?: string;
  /** sha256 of every other member. */
  members: Record<string, string>;
  /** The shared libraries the manifest's programs need, "SONAME OWNER", when they were checked (for plan). */
  libraries?: string[];
  /** prune: what each removing rule took out of the base initrd and the builtin extensions. */
  pruned?: RuleEffect[];
}

export interface WrittenFile {
  path: string;
  sha256: string;
  size: number;
  /** False when an identical file was already there: an unchanged build rewrites nothing. */
  written: boolean;
}

/** The overlay (or persist.seed's files, as `seed`): a tar.gz named by its sha256. */
export async function writeOverlay(
  out: string,
  entries: readonly Entry[],
  epoch: number,
  kind: "overlay" | "seed" = "overlay",
): Promise<WrittenFile> {
  ensureDir(out);
  // Streamed: tar, then gzip (by content: a .tcz inside is stored, not deflated again).
  const bytes = gzipStream(tar.write(entries, { epoch }).stream(), {
    threads: defaultThreads(),
    byContent: true,
  });
  return writeContentAddressed(out, (sha256) => `${kind}-${sha256}.tar.gz`, bytes);
}

/** The base ISO's member name: its file name, or base.iso when that cannot be a tar name. */
const baseMemberName = (url: string) => {
  // A URL, or (for a local mirror) a path relative to the lock.
  const name = basename(/^[a-z][a-z0-9+.-]*:\/\//i.test(url) ? new URL(url).pathname : url);
  return /^[^/\\]+\.iso$/.test(name) && Buffer.byteLength(name) <= 100 ? name : "base.iso";
};

export async function writeBundle(
  out: string,
  m: ResolvedManifest,
  lock: Lock,
  overlay: WrittenFile,
  basePath: string,
  epoch: number,
  more: {
    uefiLoader?: ByteSource | undefined;
    libraries?: string[] | undefined;
    seed?: WrittenFile | undefined;
    pruned?: RuleEffect[] | undefined;
  },
): Promise<{ file: WrittenFile; json: BundleJson }> {
  const { uefiLoader, libraries, seed, pruned } = more;
  const base = baseMemberName(lock.base.url);
  const overlayName = basename(overlay.path);
  const json: BundleJson = {
    bundleVersion: 1,
    mkbundle: packageVersion(),
    name: m.name,
    flavour: m.flavour,
    ...(m.version ? { version: m.version } : {}),
    epoch,
    manifest: withoutSecrets(m),
    lock,
    overlay: overlayName,
    base,
    members: { [overlayName]: overlay.sha256, [base]: lock.base.sha256 },
    ...(libraries ? { libraries } : {}),
    ...(pruned ? { pruned } : {}),
  };
  if (seed) {
    json.seed = basename(seed.path);
    json.members[json.seed] = seed.sha256;
  }
  if (uefiLoader) {
    json.uefiLoader = LOADER_MEMBER;
    json.members[LOADER_MEMBER] = await hashSource(uefiLoader);
  }
  const jsonBytes = Buffer.from(JSON.stringify(json, null, 2) + "\n");
  const overlaySource = fileSource(overlay.path);
  const baseSource = fileSource(basePath);
  const seedSource = seed && fileSource(seed.path);
  try {
    // The overlay and the ISO are compressed already: stored, they are read back in place.
    const bytes = bundleBytes([
      { name: "bundle.json", source: bufferSource(jsonBytes), stored: false, mtime: epoch },
      { name: overlayName, source: overlaySource, stored: true, mtime: epoch },
      { name: base, source: baseSource, stored: true, mtime: epoch },
      ...(uefiLoader ? [{ name: LOADER_MEMBER, source: uefiLoader, stored: false, mtime: epoch }] : []),
      ...(seedSource ? [{ name: json.seed!, source: seedSource, stored: true, mtime: epoch }] : []),
    ]);
    const path = join(out, bundleFileName(m));
    return { file: { path, ...(await writeIfChanged(path, bytes)) }, json };
  } finally {
    overlaySource.close();
    baseSource.close();
    seedSource?.close();
  }
}
