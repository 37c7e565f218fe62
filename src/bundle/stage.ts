// The bundle stage (Razor's build-bundle-file.sh): lock, base image, overlay, bundle.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { MkError } from "../errors.js";
import { lockStage, type LockStatus } from "../lock/stage.js";
import type { Lock } from "../lock/lock-file.js";
import type { ResolveContext } from "../lock/context.js";
import type { ManifestInput } from "../manifest/input.js";
import { compileOverlay } from "../overlay/compile.js";
import { pathSource } from "../formats/byte-source.js";
import { blobPath } from "../store/cas.js";
import { openBaseImage } from "../tinycore/base-image.js";
import { type Entry, readSmallText } from "../tree/entry.js";
import { recordLastBundle } from "../remaster/choose-bundle.js";
import { bundleFileName, writeBundle, writeOverlay, type BundleJson, type WrittenFile } from "./bundle.js";
import { readBundle } from "./read-bundle.js";

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
  const blob = (sha256: string) => pathSource(blobPath(store, sha256));
  const basePath = blobPath(store, lock.base.sha256);
  const previousTcHash = await previousHash(join(o.out, bundleFileName(manifest)));
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
      ...(previousTcHash ? { previousTcHash } : {}),
    });
  } finally {
    base.close();
  }
  const overlay = await writeOverlay(o.out, overlayEntries, manifest.epoch);
  const { file: bundle, json } = await writeBundle(o.out, manifest, lock, overlay, basePath, manifest.epoch);
  await recordLastBundle(o.out, bundle.path);
  return { lock, lockStatus: status, ...(lockFile ? { lockFile } : {}), overlayEntries, overlay, bundle, json };
}

/** tc's password hash in the bundle this stage wrote last time, if there is one that reads. */
async function previousHash(bundle: string): Promise<string | undefined> {
  if (!existsSync(bundle)) return undefined;
  try {
    const shadow = (await readBundle(bundle)).overlay.find((e) => e.path === "etc/shadow");
    const text = shadow ? await readSmallText(shadow) : "";
    return /^tc:([^:]*):/m.exec(text)?.[1];
  } catch (e) {
    if (e instanceof MkError) return undefined; // a damaged bundle is rebuilt, not trusted
    throw e;
  }
}
