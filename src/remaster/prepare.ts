// The first half of rebuild-iso: a bundle -> everything an output needs, computed once: the
// base image, the kernel, the initrds the image boots (merged, or the base's plus the
// overlay appended), the edited isolinux.cfg and the boot line.
import { createHash } from "node:crypto";
import { readBundle, type OpenedBundle } from "../bundle/read-bundle.js";
import { MkError } from "../errors.js";
import { hashSource } from "../io/hash.js";
import type { ReadLimits } from "../formats/limits.js";
import { flavourPolicy } from "../manifest/flavour.js";
import { bootCodes } from "../manifest/resolve.js";
import { openBaseImage, type BaseImage } from "../tinycore/base-image.js";
import { extensionDir, extensionPath, MK_VERSION } from "../tinycore/layout.js";
import { fileEntry, openContent, readContent, type Entry, readSmallText } from "../tree/entry.js";
import { mergeEntry, treeOf, type FileTree } from "../tree/file-tree.js";
import { prune, pruneRules } from "../tree/prune.js";
import { prunableBuiltins, repackPrunedBuiltins } from "./prune-builtin.js";
import { auditImage } from "../overlay/audit.js";
import { appendArchiveEntries, compressArchive, mergedInitrd, type Initrd } from "./initrd.js";
import { layeredArchive } from "./layers.js";
import { defaultThreads } from "../formats/gzip/writer.js";
import { editIsolinuxCfg } from "./isolinux-edit.js";
import { isoMetadataYaml, mkVersionYaml } from "./texts.js";
import { chooseMode, unpackBuiltin, type BuiltinMode } from "./unpack-builtin.js";
import { checkEfiStub } from "../tinycore/efi-stub.js";
import { bootLine } from "../tinycore/boot-line.js";
import { MAX_LOADER } from "../bundle/uefi-loader.js";
import { signPe } from "../formats/pe/authenticode.js";
import { readSigningKey, type SigningFiles } from "./secure-boot.js";

export interface RemasterOptions {
  bundle: string;
  version?: string;
  appendInitrd?: boolean;
  /** How builtin extensions reach the booted system; auto picks by the base initrd. */
  builtin?: BuiltinMode;
  out: string;
  /** SOURCE_DATE_EPOCH, when set: iso-metadata.yaml records it as the build time (never the clock). */
  buildTime?: number | undefined;
  /** What one opened container may cost. */
  limits: ReadLimits;
  threads?: number;
  /** Where --append-initrd keeps compressed overlay layers for the next build. */
  layerCache?: string;
  /** Replace a data partition that holds other bytes (persist). */
  force?: boolean;
  /** boot.uefi.sign: the key and certificate files the loader and kernel are signed with. */
  signing?: SigningFiles;
}

export interface PreparedRemaster {
  bundlePath: string;
  bundle: OpenedBundle;
  name: string;
  flavour: string;
  version: string;
  epoch: number;
  base: BaseImage;
  kernel: { path: string; bytes: Buffer };
  /** What the image boots, in order: paths on the ISO (no leading '/'), bytes (on disk, read in place) and digests. */
  initrds: ({ path: string } & Initrd)[];
  /** --append-initrd: the overlay's layers, and how many came from the layer cache. */
  layers?: { count: number; reused: number };
  /** The base initrds that full mode folded into the first, and that leave the image. */
  droppedInitrds: string[];
  cfg: { path: string; text: string };
  /** The default label's codes plus boot.append: the kernel command line of PXE and direct boots. */
  bootLine: string[];
  /** iso-metadata.yaml. */
  metadata: string;
  builtin: { unpack: boolean; why: string };
  /** boot.uefi: the EFI loader's bytes (the ESP is built from them by the outputs). */
  uefiLoader?: Buffer;
  out: string;
  /** --force: an existing data partition with other bytes is replaced. */
  force: boolean;
}

const VERSION = /^[A-Za-z0-9][A-Za-z0-9._+-]*$/;
const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

export async function prepareRemaster(o: RemasterOptions): Promise<PreparedRemaster> {
  const bundle = await readBundle(o.bundle, o.limits);
  const { json } = bundle;
  const version = o.version ?? json.version;
  if (!version)
    throw new MkError("usage", "no version", {
      hint: "pass one, as in mkbundle rebuild-iso 0.9.0.1, or set version: in the manifest",
    });
  if (!VERSION.test(version))
    throw new MkError("usage", `'${version}' is not a usable version`, { hint: "letters, digits, '.', '_', '+', '-'" });
  const epoch = json.epoch;
  const member = bundle.members.get(json.base);
  if (!member) throw new MkError("input", `the bundle lacks its base ISO ${json.base}`);
  const isoSource = openContent(member);
  if ((await hashSource(isoSource)) !== json.members[json.base])
    throw new MkError("verify", `${json.base} does not match its sha256 in bundle.json`);
  const base = await openBaseImage(isoSource, o.limits);
  const wholeBase = await base.initrd();
  // prune: the base initrd's files and the builtin extensions' (never the manifest's own).
  const rules = pruneRules(json.manifest.prune ?? []);
  const prunedBase = prune([...wholeBase.values()], rules);
  if (o.appendInitrd && prunedBase.removed.size)
    throw new MkError(
      "usage",
      `--append-initrd keeps the base initrd byte for byte, so prune: cannot remove the ${prunedBase.removed.size} entries its rules match there`,
      { hint: "build without --append-initrd" },
    );
  const baseTree = prunedBase.removed.size ? treeOf(prunedBase.kept) : wholeBase;
  const prunable = prunableBuiltins(
    json.lock,
    json.manifest.extensions.local.map((l) => l.name),
  );

  const builtin = await chooseMode(o.builtin ?? "auto", baseTree, json.lock);
  const bundled = builtin.unpack
    ? await unpackBuiltin(bundle.overlay, json.lock, baseTree, epoch, o.limits, (name, files) =>
        prunable.includes(name) ? prune(files, rules).kept : files,
      )
    : await repackPrunedBuiltins(bundle.overlay, prunable, rules, epoch, o.limits);
  const overlay = [...bundled, fileEntry(MK_VERSION, Buffer.from(mkVersionYaml(version)), epoch)];
  // The image as it will boot; the bundled .tcz files too, so a daemon is named with the extension that brought it.
  if (flavourPolicy(json.flavour).audited)
    await auditBundle(bundle, treeWith(baseTree, [...bundle.overlay, ...overlay]), o.limits);
  const m = json.manifest;
  const baseInitrds = base.boot.initrds;
  let initrds: PreparedRemaster["initrds"];
  let layers: PreparedRemaster["layers"];
  if (o.appendInitrd) {
    // The base initrd stays byte for byte (read where it lies); the overlay follows it, in layers.
    const kept = await Promise.all(baseInitrds.map((p) => baseInitrd(base, p)));
    const {
      layers: count,
      reused,
      ...archive
    } = await layeredArchive(appendArchiveEntries(baseTree, overlay), epoch, {
      threads: o.threads ?? defaultThreads(),
      ...(o.layerCache ? { cache: o.layerCache } : {}),
    });
    layers = { count, reused };
    initrds = [...kept, { path: `boot/${m.name}.gz`, ...archive }];
  } else {
    initrds = [
      { path: baseInitrds[0]!, ...(await compressArchive(mergedInitrd(baseTree, overlay), epoch, o.threads)) },
    ];
  }
  const kernel = { path: base.boot.kernel, bytes: await base.kernel() };
  let uefiLoader = await loaderOf(bundle);
  if (uefiLoader) checkEfiStub(kernel.bytes, kernel.path, json.base);
  if (o.signing && !m.boot.uefi?.sign)
    throw new MkError("usage", "--sign-key/--sign-cert: this bundle's manifest does not sign for Secure Boot", {
      hint: "add boot.uefi.sign to the manifest",
    });
  if (uefiLoader && m.boot.uefi?.sign) {
    if (!o.signing)
      throw new MkError(
        "usage",
        "this bundle's manifest signs for Secure Boot (boot.uefi.sign), and no key was given",
        {
          hint: "pass --sign-key KEY --sign-cert CERT (mkbundle build reads the files the manifest names)",
        },
      );
    const key = readSigningKey(o.signing);
    kernel.bytes = signPe(kernel.bytes, key, `/${kernel.path}`);
    uefiLoader = signPe(uefiLoader, key, "the EFI loader");
  }
  const cfgText = await readSmallText(base.file(base.boot.cfgPath)!);
  const cfg = editIsolinuxCfg(cfgText, {
    append: bootCodes(m),
    ...(m.boot.timeout !== undefined ? { timeoutSeconds: m.boot.timeout } : {}),
    initrds: initrds.map((i) => `/${i.path}`),
  });
  const sde = o.buildTime;
  const metadata = isoMetadataYaml({
    iso_version: version,
    kernel: { path: `/${kernel.path}`, sha256: sha256(kernel.bytes) },
    initrd: initrds.map((i) => ({ path: `/${i.path}`, sha256: i.sha256 })),
    ...(sde !== undefined ? { build_time: new Date(sde * 1000).toISOString() } : {}),
    ...(json.pruned?.length ? { pruned: json.pruned } : {}),
  });
  return {
    bundlePath: o.bundle,
    bundle,
    name: json.name,
    flavour: json.flavour,
    version,
    epoch,
    base,
    kernel,
    initrds,
    ...(layers ? { layers } : {}),
    droppedInitrds: o.appendInitrd ? [] : baseInitrds.slice(1),
    cfg: { path: base.boot.cfgPath, text: cfg },
    bootLine: bootLine(base.boot.label, bootCodes(m)),
    metadata,
    builtin,
    ...(uefiLoader ? { uefiLoader } : {}),
    out: o.out,
    force: o.force ?? false,
  };
}

/** The bundle's EFI loader, verified against bundle.json; undefined without boot.uefi. */
async function loaderOf(bundle: OpenedBundle): Promise<Buffer | undefined> {
  const { json } = bundle;
  if (!json.manifest.boot.uefi) return undefined;
  const entry = json.uefiLoader ? bundle.members.get(json.uefiLoader) : undefined;
  if (!entry) throw new MkError("input", "the bundle's manifest has boot.uefi but the bundle holds no EFI loader");
  if (entry.size > MAX_LOADER)
    throw new MkError("input", `the bundle's EFI loader is ${entry.size} bytes; a loader is at most 64 MiB`);
  const bytes = readContent(entry);
  if (sha256(bytes) !== json.members[json.uefiLoader!])
    throw new MkError("verify", `${json.uefiLoader} does not match its sha256 in bundle.json`);
  return bytes;
}

async function baseInitrd(base: BaseImage, path: string): Promise<{ path: string } & Initrd> {
  const entry = base.file(path)!;
  const source = openContent(entry);
  return { path, source, sha256: await hashSource(source), size: source.size };
}

function treeWith(base: FileTree, overlay: readonly Entry[]): FileTree {
  const t = treeOf(base.values());
  for (const e of overlay) mergeEntry(t, e);
  return t;
}

/** The prod audit again, on the image this bundle would make: a bundle is input, not trusted. */
async function auditBundle(bundle: OpenedBundle, tree: FileTree, limits: ReadLimits): Promise<void> {
  const { lock } = bundle.json;
  for (const x of lock.extensions.filter((e) => e.role === "builtin" || e.role === "mirror")) {
    const path = extensionPath(
      extensionDir(x.role === "builtin" ? "builtin" : "mirror", lock.release, lock.arch),
      x.name,
    );
    if (!bundle.overlay.some((e) => e.path === path))
      throw new MkError("input", `the bundle lacks ${x.name}.tcz, which its lock lists as ${x.role}`);
  }
  const requiredBy = new Map(lock.extensions.map((x) => [x.name, x.requiredBy]));
  const problems = await auditImage(tree, { limits, requiredBy });
  if (problems.length) throw new MkError("build", problems);
}
