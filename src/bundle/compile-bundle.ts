// The bundle stage's second half, when something changed: the downloads checked (and
// fetched), the overlay compiled, the overlay tarball and the bundle written. A module of
// its own so that an unchanged build never loads the compiler.
import type { RuleEffect } from "../tree/prune.js";
import { existsSync } from "node:fs";
import { basename } from "node:path";
import { MkError } from "../errors.js";
import type { ReadLimits } from "../formats/limits.js";
import { pathSource } from "../io/byte-source.js";
import type { ResolveContext } from "../lock/context.js";
import { fetchLocked } from "../lock/fetch-locked.js";
import type { Lock } from "../lock/lock-file.js";
import type { LockStatus } from "../lock/stage.js";
import type { ManifestInput } from "../manifest/input.js";
import { compileOverlay } from "../overlay/compile.js";
import type { TcField } from "../overlay/password.js";
import { blobPath } from "../store/cas.js";
import { SHADOW } from "../tinycore/accounts.js";
import { checkEfiStub } from "../tinycore/efi-stub.js";
import { openBaseImage } from "../tinycore/base-image.js";
import { readSmallText, type Entry } from "../tree/entry.js";
import { writeBundle, writeOverlay, type WrittenFile } from "./bundle.js";
import { readBundle } from "./read-bundle.js";
import { mirrorProviders } from "../lock/provides-index.js";
import { uefiLoaderSource } from "./uefi-loader.js";

export async function compileBundle(
  o: { input: ManifestInput; out: string; allowMissingCommands?: boolean; skipLibCheck?: boolean },
  ctx: ResolveContext,
  s: { lock: Lock; status: LockStatus; tcField: TcField },
): Promise<{ overlay: WrittenFile; seed?: WrittenFile | undefined; bundle: WrittenFile; overlayFiles: number }> {
  const { manifest } = o.input;
  const { lock, status, tcField } = s;
  if (status === "up to date") await fetchLocked(lock, manifest, ctx);
  const store = ctx.fetch.store;
  const blob = (sha256: string) => pathSource(blobPath(store, sha256));
  const basePath = blobPath(store, lock.base.sha256);
  const base = await openBaseImage(basePath, ctx.limits);
  let overlayEntries: Entry[];
  let libraries: string[] | undefined;
  let pruned: RuleEffect[] | undefined;
  let seedEntries: Entry[];
  try {
    if (manifest.boot.uefi) checkEfiStub(await base.kernel(), base.boot.kernel, basename(lock.base.url));
    ({
      entries: overlayEntries,
      seed: seedEntries,
      libraries,
      pruned,
    } = await compileOverlay({
      manifest,
      lock,
      manifestDir: o.input.dir,
      locate: o.input.locate,
      blob,
      base: await base.initrd(),
      tcField,
      log: ctx.log,
      limits: ctx.limits,
      ...(o.allowMissingCommands ? { allowMissingCommands: true } : {}),
      ...(o.skipLibCheck ? { skipLibCheck: true } : {}),
      providers: mirrorProviders(manifest, ctx),
    }));
  } finally {
    base.close();
  }
  const overlay = await writeOverlay(o.out, overlayEntries, manifest.epoch);
  const seed = seedEntries.length ? await writeOverlay(o.out, seedEntries, manifest.epoch, "seed") : undefined;
  const uefiLoader = await uefiLoaderSource(manifest, lock, blob, ctx.limits);
  const { file: bundle } = await writeBundle(o.out, manifest, lock, overlay, basePath, manifest.epoch, {
    uefiLoader,
    libraries,
    seed,
    pruned,
  });
  const overlayFiles = overlayEntries.filter((e) => e.type !== "dir").length;
  return { overlay, seed, bundle, overlayFiles };
}

/** tc's shadow field in a bundle on disk (when its record is lost), if there is one that reads. */
export async function tcFieldOf(bundle: string, limits: ReadLimits): Promise<string | undefined> {
  if (!existsSync(bundle)) return undefined;
  try {
    const shadow = (await readBundle(bundle, limits)).overlay.find((e) => e.path === SHADOW);
    const text = shadow ? await readSmallText(shadow) : "";
    return /^tc:([^:]*):/m.exec(text)?.[1];
  } catch (e) {
    if (e instanceof MkError) return undefined; // a damaged bundle is rebuilt, not trusted
    throw e;
  }
}
