// The bundle stage (Razor's build-bundle-file.sh): lock, base image, overlay, bundle.
import { readFileSync } from "node:fs";
import { lockStage, type LockStatus } from "../lock/stage.js";
import type { Lock } from "../lock/lock-file.js";
import type { ResolveContext } from "../lock/context.js";
import type { ManifestInput } from "../manifest/input.js";
import { compileOverlay } from "../overlay/compile.js";
import { blobPath } from "../store/cas.js";
import { openBaseImage } from "../tinycore/base-image.js";
import type { Entry } from "../tree/entry.js";
import { overlayTarball, writeBundle, writeOverlay, type BundleJson, type WrittenFile } from "./bundle.js";

export interface BundleStageOptions {
  input: ManifestInput;
  out: string;
  update?: boolean;
  frozen?: boolean;
  allowMissingCommands?: boolean;
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
  const { manifest } = o.input;
  const { lock, status, lockFile } = await lockStage(
    {
      manifest,
      ...(o.input.file ? { manifestFile: o.input.file } : {}),
      ...(o.update ? { update: true } : {}),
      ...(o.frozen ? { frozen: true } : {}),
    },
    ctx,
  );
  const store = ctx.fetch.store;
  const blob = (sha256: string) => readFileSync(blobPath(store, sha256));
  const basePath = blobPath(store, lock.base.sha256);
  const base = await openBaseImage(basePath);
  let overlayEntries: Entry[];
  try {
    overlayEntries = await compileOverlay({
      manifest,
      lock,
      manifestDir: o.input.dir,
      locate: o.input.locate,
      blob,
      base: await base.initrd(),
      env: o.input.env,
      log: ctx.log,
      ...(o.allowMissingCommands ? { allowMissingCommands: true } : {}),
    });
  } finally {
    base.close();
  }
  const tarball = await overlayTarball(overlayEntries, manifest.epoch);
  const overlay = await writeOverlay(o.out, tarball);
  const name = overlay.path.slice(overlay.path.lastIndexOf("/") + 1);
  const { file: bundle, json } = await writeBundle(
    o.out,
    manifest,
    lock,
    { name, bytes: tarball },
    readFileSync(basePath),
    manifest.epoch,
  );
  return { lock, lockStatus: status, ...(lockFile ? { lockFile } : {}), overlayEntries, overlay, bundle, json };
}
