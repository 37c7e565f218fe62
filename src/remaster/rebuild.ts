// rebuild-iso (Razor's rebuild_iso.sh): a bundle -> a bootable ISO, PXE files, SHA256SUMS.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { readBundle } from "../bundle/read-bundle.js";
import type { BundleJson } from "../bundle/bundle.js";
import { bufferSource } from "../formats/byte-source.js";
import { hasHybridMbr } from "../formats/iso9660/hybrid.js";
import { readIso } from "../formats/iso9660/reader.js";
import { writeIso } from "../formats/iso9660/writer.js";
import { baseImageOf } from "../tinycore/base-image.js";
import { readAllData, type Entry } from "../tree/entry.js";
import { writeIfChanged } from "../util/write-atomic.js";
import { appendArchiveEntries, compressArchive, mergedInitrd } from "./initrd.js";
import { editIsolinuxCfg } from "./isolinux-edit.js";
import { chooseMode, unpackBuiltin, type BuiltinMode } from "./unpack-builtin.js";
import { ipxeScript, isoFileName, isoMetadataYaml, mkVersionYaml } from "./outputs.js";

export interface RebuildOptions {
  bundle: string;
  version?: string;
  appendInitrd?: boolean;
  /** How builtin extensions reach the booted system; auto picks by the base initrd. */
  builtin?: BuiltinMode;
  out: string;
  env: Readonly<Record<string, string | undefined>>;
  threads?: number;
}

export interface OutputFile {
  path: string;
  sha256: string;
  size: number;
  written: boolean;
}

export interface RebuildResult {
  version: string;
  json: BundleJson;
  iso: OutputFile;
  pxe: OutputFile[];
  initrdPaths: string[];
  builtin: { unpack: boolean; why: string };
}

export class RebuildError extends Error {}

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const file = (path: string, data: Buffer, mtime: number, mode = 0o644): Entry => ({ path, type: "file", mode, uid: 0, gid: 0, mtime, size: data.length, data });

async function put(path: string, data: Buffer | AsyncIterable<Buffer>): Promise<OutputFile> {
  const r = await writeIfChanged(path, Buffer.isBuffer(data) ? [data] : data);
  return { path, ...r };
}

export async function rebuildIso(o: RebuildOptions): Promise<RebuildResult> {
  const bundle = await readBundle(o.bundle);
  const { json } = bundle;
  const version = o.version ?? json.version;
  if (!version) throw new RebuildError(`no version: pass one, as in mkbundle rebuild-iso 0.9.0.1, or set version: in the manifest`);
  if (!/^[A-Za-z0-9][A-Za-z0-9._+-]*$/.test(version)) throw new RebuildError(`'${version}' is not a usable version (letters, digits, '.', '_', '+', '-')`);
  const epoch = json.epoch;
  const isoBytes = await readAllData(bundle.members.get(json.base)!);
  if (sha256(isoBytes) !== json.members[json.base]) throw new RebuildError(`${o.bundle}: ${json.base} does not match its sha256 in bundle.json`);
  const iso = readIso(bufferSource(isoBytes));
  if (!iso.boot?.imagePath || !iso.boot.catalogPath) throw new RebuildError(`${json.base} has no El Torito boot image to keep`);
  const base = await baseImageOf(iso);

  const builtin = chooseMode(o.builtin ?? "auto", base.initrd, json.lock);
  const bundled = builtin.unpack ? await unpackBuiltin(bundle.overlay, json.lock, base.initrd, epoch) : bundle.overlay;
  const overlay = [...bundled, file("tmp/mk-version.yaml", Buffer.from(mkVersionYaml(version)), epoch)];
  const m = json.manifest;
  const firstInitrd = base.boot.initrds[0]!;
  let initrds: { path: string; data: Buffer }[];
  if (o.appendInitrd) {
    // The base initrd stays byte for byte; the overlay follows it as a second archive.
    const extra = `boot/${m.name}.gz`;
    initrds = [...base.boot.initrds.map((p, i) => ({ path: p, data: base.initrdBytes[i]! })), { path: extra, data: await compressArchive(appendArchiveEntries(base.initrd, overlay), o.threads) }];
  } else {
    initrds = [{ path: firstInitrd, data: await compressArchive(mergedInitrd(base.initrd, overlay), o.threads) }];
  }

  const byPath = new Map(iso.entries.map((e) => [e.path, e]));
  const kernelBytes = await readAllData(byPath.get(base.boot.kernel)!);
  const cfgText = (await readAllData(byPath.get(base.boot.cfgPath)!)).toString("utf8");
  const cfg = editIsolinuxCfg(cfgText, { append: m.boot.append, ...(m.boot.timeout !== undefined ? { timeoutSeconds: m.boot.timeout } : {}), initrds: initrds.map((i) => `/${i.path}`) });
  const sde = o.env["SOURCE_DATE_EPOCH"];
  const metadata = isoMetadataYaml({
    iso_version: version,
    kernel: { path: `/${base.boot.kernel}`, sha256: sha256(kernelBytes) },
    initrd: initrds.map((i) => ({ path: `/${i.path}`, sha256: sha256(i.data) })),
    ...(sde && /^\d+$/.test(sde) ? { build_time: new Date(Number(sde) * 1000).toISOString() } : {}),
  });

  // Base files stay as they are; changed and new ones carry the bundle's epoch.
  const replaced = new Map<string, Entry>([
    [base.boot.cfgPath, { ...byPath.get(base.boot.cfgPath)!, data: Buffer.from(cfg), size: Buffer.byteLength(cfg), mtime: epoch }],
    ["iso-metadata.yaml", file("iso-metadata.yaml", Buffer.from(metadata), epoch)],
  ]);
  const built = initrds[initrds.length - 1]!; // the merged initrd, or the appended archive
  replaced.set(built.path, { ...(byPath.get(built.path) ?? file(built.path, built.data, epoch)), data: built.data, size: built.data.length, mtime: epoch });
  // Full mode folds every base initrd into the first: the others leave the image.
  const dropped = o.appendInitrd ? new Set<string>() : new Set(base.boot.initrds.slice(1));
  const entries = [...iso.entries.filter((e) => !replaced.has(e.path) && !dropped.has(e.path)), ...replaced.values()];
  mkdirSync(o.out, { recursive: true });
  const isoPath = join(o.out, isoFileName(json.name, json.flavour, version));
  const isoOut = await put(isoPath, writeIso(entries, {
    epoch,
    volume: { volumeId: m.boot.volume_id ?? iso.volume.volumeId, applicationId: "MKBUNDLE", preparerId: `MKBUNDLE ${json.mkbundle}` },
    boot: { imagePath: iso.boot.imagePath, catalogPath: iso.boot.catalogPath, loadSegment: iso.boot.loadSegment, sectorCount: iso.boot.sectorCount, platform: iso.boot.platform },
    ...(hasHybridMbr(iso.systemArea) ? { hybridMbrCode: iso.systemArea } : {}),
  }));

  // PXE: the kernel, the initrd(s) and an iPXE script beside them.
  const pxeDir = join(o.out, "pxe", `${json.name}-${version}`);
  mkdirSync(pxeDir, { recursive: true });
  const kernelName = base.boot.kernel.split("/").pop()!;
  const label = base.boot.label.append.filter((c) => !c.startsWith("initrd="));
  const append = [...label, ...m.boot.append.filter((c) => !label.includes(c))];
  const pxe = [await put(join(pxeDir, kernelName), kernelBytes)];
  for (const i of initrds) pxe.push(await put(join(pxeDir, i.path.split("/").pop()!), i.data));
  pxe.push(await put(join(pxeDir, "boot.ipxe"), Buffer.from(ipxeScript(kernelName, initrds.map((i) => i.path.split("/").pop()!), append))));
  await updateSums(o.out, [isoOut, ...pxe]);
  return { version, json, iso: isoOut, pxe, initrdPaths: initrds.map((i) => i.path), builtin };
}

/** SHA256SUMS in --out: our files' lines replaced, other builds' kept, sorted. */
async function updateSums(out: string, files: OutputFile[]): Promise<void> {
  const path = join(out, "SHA256SUMS");
  const lines = new Map<string, string>();
  if (existsSync(path)) for (const l of readFileSync(path, "utf8").split("\n")) {
    const m = /^([0-9a-f]{64}) {2}(.+)$/.exec(l);
    if (m) lines.set(m[2]!, m[1]!);
  }
  for (const f of files) lines.set(relative(out, f.path), f.sha256);
  const text = [...lines].sort(([a], [b]) => a.localeCompare(b)).map(([p, s]) => `${s}  ${p}\n`).join("");
  await put(path, Buffer.from(text));
}
