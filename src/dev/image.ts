// The dev loop's image: the base kernel and initrd as they are, and the overlay as a second
// initrd archive (as --append-initrd builds it), compiled straight from the manifest without
// a bundle or an ISO. Only the overlay is rebuilt when a file changes. The dev image alone
// carries the live-update receiver (receiver.ts).
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
import { fileEntry, readSmallText, type Entry } from "../tree/entry.js";
import { addParents, type FileTree } from "../tree/file-tree.js";
import { BOOTLOCAL, DEV_RECEIVER, editBootlocal } from "../tinycore/layout.js";
import { receiverScript, type Channel } from "./receiver.js";
import { execAgent } from "../overlay/exec-agent.js";
import { imageState, type ImageState } from "./live-change.js";

export interface DevOverlay {
  /** The overlay as a gzip'd newc archive, to follow the base initrd. */
  archive: Buffer;
  sha256: string;
  builtin: { unpack: boolean; why: string };
  /** The overlay as compiled from the manifest (what a live update compares), taken as it was built. */
  state: ImageState;
}

/** The live-update receiver, started first from bootlocal.sh. */
async function receiverEntries(entries: readonly Entry[], base: FileTree, live: Live, epoch: number): Promise<Entry[]> {
  const bootlocal = entries.find((e) => e.path === BOOTLOCAL) ?? base.get(BOOTLOCAL);
  // No exec agent in the dev loop: the second serial port is the receiver's there.
  const original =
    bootlocal?.type === "file"
      ? (await readSmallText(bootlocal)).replace(`${execAgent(epoch).start}\n`, "")
      : undefined;
  return [
    fileEntry(DEV_RECEIVER, Buffer.from(receiverScript(live.channel, live.token)), epoch, 0o700),
    fileEntry(
      BOOTLOCAL,
      Buffer.from(editBootlocal(original, { first: [`/${DEV_RECEIVER} > /var/log/mkbundle-dev.log 2>&1 &`] })),
      epoch,
      bootlocal?.mode ?? 0o755,
      bootlocal?.uid ?? 0,
      bootlocal?.gid ?? 0,
    ),
  ];
}

export interface Live {
  channel: Channel;
  token: string;
}

export async function devOverlay(
  input: ManifestInput,
  lock: Lock,
  base: BaseImage,
  ctx: ResolveContext,
  builtin: BuiltinMode,
  tcField: TcField,
  live?: Live,
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
  const all: FileTree = new Map([...overlay, version].map((e) => [e.path, e]));
  for (const e of live ? await receiverEntries(entries, tree, live, m.epoch) : []) {
    addParents(all, e.path, tree, m.epoch); // parents first: the kernel unpacks in order
    all.set(e.path, e); // the receiver's bootlocal.sh replaces the overlay's, in its place
  }
  const initrd = await compressArchive(appendArchiveEntries(tree, [...all.values()]), m.epoch);
  const archive = initrd.source.read(0, initrd.size);
  initrd.source.close();
  return { archive, sha256: initrd.sha256, builtin: mode, state: imageState(m, entries) };
}
