// The dev loop's image: the base kernel and initrd as they are, and the overlay as a second
// initrd archive (as --append-initrd builds it), compiled straight from the manifest without
// a bundle or an ISO. Only the overlay is rebuilt when a file changes.
import type { ResolveContext } from "../lock/context.js";
import type { Lock } from "../lock/lock-file.js";
import type { ManifestInput } from "../manifest/input.js";
import { compileOverlay } from "../overlay/compile.js";
import type { TcField } from "../overlay/password.js";
import { appendArchiveEntries, compressArchive } from "../remaster/initrd.js";
import { mkVersionYaml } from "../remaster/texts.js";
import { chooseMode, unpackBuiltin, type BuiltinMode } from "../remaster/unpack-builtin.js";
import { pathSource } from "../io/byte-source.js";
import { blobPath } from "../store/cas.js";
import type { BaseImage } from "../tinycore/base-image.js";
import { MK_VERSION } from "../tinycore/layout.js";
import { fileEntry } from "../tree/entry.js";

export interface DevOverlay {
  /** The overlay as a gzip'd newc archive, to follow the base initrd. */
  archive: Buffer;
  sha256: string;
  builtin: { unpack: boolean; why: string };
}

export async function devOverlay(
  input: ManifestInput,
  lock: Lock,
  base: BaseImage,
  ctx: ResolveContext,
  builtin: BuiltinMode,
  tcField: TcField,
): Promise<DevOverlay> {
  const m = input.manifest;
  const tree = await base.initrd();
  const { entries } = await compileOverlay({
    manifest: m,
    lock,
    manifestDir: input.dir,
    locate: input.locate,
    blob: (s) => pathSource(blobPath(ctx.fetch.store, s)),
    base: tree,
    tcField,
    log: ctx.log,
    limits: ctx.limits,
  });
  const mode = await chooseMode(builtin, tree, lock);
  const overlay = mode.unpack ? await unpackBuiltin(entries, lock, tree, m.epoch, ctx.limits) : entries;
  const version = fileEntry(MK_VERSION, Buffer.from(mkVersionYaml(m.version ?? "dev")), m.epoch);
  const initrd = await compressArchive(appendArchiveEntries(tree, [...overlay, version]), m.epoch);
  const archive = initrd.source.read(0, initrd.size);
  initrd.source.close();
  return { archive, sha256: initrd.sha256, builtin: mode };
}
