// The bundle stage (Razor's build-bundle-file.sh): lock, base image, overlay, bundle.
import { readFileSync } from "node:fs";
import { lockStage, type LockStatus } from "../lock/stage.js";
import type { Lock } from "../lock/lock-file.js";
import type { ResolveContext } from "../lock/resolve.js";
import type { ResolvedManifest } from "../manifest/types.js";
import { compileOverlay } from "../overlay/compile.js";
import { buildEpoch } from "../overlay/epoch.js";
import { blobPath } from "../store/cas.js";
import { readBaseImage } from "../tinycore/base-image.js";
import type { Entry } from "../tree/entry.js";
import { overlayTarball, writeBundle, writeOverlay, type BundleJson, type WrittenFile } from "./bundle.js";

export interface BundleStageOptions {
  manifest: ResolvedManifest;
  manifestFile?: string;
  manifestDir: string;
  out: string;
  env: Readonly<Record<string, string | undefined>>;
  update?: boolean;
  frozen?: boolean;
}

export interface BundleResult {
  lock: Lock;
  lockStatus: LockStatus;
  lockFile?: string;
  overlayEntries: Entry[];
  overlay: WrittenFile;
  bundle: WrittenFile;
  json: BundleJson;
}

export async function bundleStage(o: BundleStageOptions, ctx: ResolveContext): Promise<BundleResult> {
  const { lock, status, lockFile } = await lockStage({ manifest: o.manifest, ...(o.manifestFile ? { manifestFile: o.manifestFile } : {}), ...(o.update ? { update: true } : {}), ...(o.frozen ? { frozen: true } : {}) }, ctx);
  const store = ctx.fetch.store;
  const blob = (sha256: string) => readFileSync(blobPath(store, sha256));
  const epoch = buildEpoch(o.manifest.epoch, o.env);
  const basePath = blobPath(store, lock.base.sha256);
  const base = await readBaseImage(basePath);
  let overlayEntries: Entry[];
  try {
    overlayEntries = await compileOverlay({ manifest: o.manifest, lock, manifestDir: o.manifestDir, blob, base: base.initrd, env: o.env, epoch, warn: ctx.warn });
  } finally {
    base.close();
  }
  const tarball = await overlayTarball(overlayEntries, epoch);
  const overlay = await writeOverlay(o.out, tarball);
  const name = overlay.path.slice(overlay.path.lastIndexOf("/") + 1);
  const { file: bundle, json } = await writeBundle(o.out, o.manifest, lock, { name, bytes: tarball }, readFileSync(basePath), epoch);
  return { lock, lockStatus: status, ...(lockFile ? { lockFile } : {}), overlayEntries, overlay, bundle, json };
}
