// The bundle stage's second half, when something changed: the downloads checked (and
// fetched), the overlay compiled, the overlay tarball and the bundle written, the record kept.
// A module of its own so that an unchanged build never loads the compiler.
import { existsSync } from "node:fs";
import { basename, join } from "node:path";
import { MkError } from "../errors.js";
import { pathSource } from "../io/byte-source.js";
import type { ResolveContext } from "../lock/context.js";
import { fetchLocked } from "../lock/fetch-locked.js";
import type { Lock } from "../lock/lock-file.js";
import type { LockStatus } from "../lock/stage.js";
import { compileOverlay } from "../overlay/compile.js";
import { recordLastBundle } from "../remaster/choose-bundle.js";
import { bundleFileName } from "../remaster/names.js";
import { blobPath } from "../store/cas.js";
import { checkEfiStub } from "../tinycore/efi-stub.js";
import { openBaseImage } from "../tinycore/base-image.js";
import { readSmallText, type Entry } from "../tree/entry.js";
import { stampOf, stillStamped, type FileStamp } from "../io/file-stamp.js";
import { writeBundle, writeOverlay, type WrittenFile } from "./bundle.js";
import { readBundle } from "./read-bundle.js";
import { writeRecord, type BundleRecord } from "./record.js";
import type { BundleStageOptions } from "./stage.js";
import { uefiLoaderSource } from "./uefi-loader.js";

export async function compileBundle(
  o: BundleStageOptions,
  ctx: ResolveContext,
  s: {
    lock: Lock;
    status: LockStatus;
    record: BundleRecord | undefined;
    key: string;
    sources: Record<string, FileStamp>;
    parts: Record<string, string>;
  },
): Promise<{ overlay: WrittenFile; bundle: WrittenFile; overlayFiles: number }> {
  const { manifest } = o.input;
  const { lock, status, record, key, sources, parts } = s;
  const name = bundleFileName(manifest);
  if (status === "up to date") await fetchLocked(lock, manifest, ctx);
  const store = ctx.fetch.store;
  const blob = (sha256: string) => pathSource(blobPath(store, sha256));
  const basePath = blobPath(store, lock.base.sha256);
  const bundlePath = join(o.out, name);
  const previousTcHash = stillStamped(bundlePath, record?.bundle) ? record!.tcField : await previousHash(bundlePath);
  const base = await openBaseImage(basePath);
  let overlayEntries: Entry[];
  try {
    if (manifest.boot.uefi) checkEfiStub(await base.kernel(), base.boot.kernel, basename(lock.base.url));
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
  const loader = await uefiLoaderSource(manifest, lock, blob);
  const { file: bundle } = await writeBundle(o.out, manifest, lock, overlay, basePath, manifest.epoch, loader);
  await recordLastBundle(o.out, bundle.path);
  const overlayFiles = overlayEntries.filter((e) => e.type !== "dir").length;
  const shadow = overlayEntries.find((e) => e.path === "etc/shadow");
  const tcField = /^tc:([^:]*):/m.exec(shadow ? await readSmallText(shadow) : "")?.[1] ?? "";
  await writeRecord(o.out, name, {
    key,
    bundle: { path: bundle.path, ...stampOf(bundle.path, bundle.sha256) },
    overlay: { path: overlay.path, ...stampOf(overlay.path, overlay.sha256) },
    tcField,
    overlayFiles,
    sources,
    parts,
  });
  return { overlay, bundle, overlayFiles };
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
