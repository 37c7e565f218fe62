// kernel_modules: drivers placed under lib/modules/<release>/ of the base kernel, each read as
// ELF and checked against that kernel before anything is built (the vermagic release, the
// architecture, every module its depends= names), and the dependency files depmod would write
// for the base's modules plus these (depmod.ts), so modprobe and the kernel's own requests
// (a device's modalias, fs-ext4) find them. New modules are appended to modules.order.
import { FormatError, keyPath, MkError, type Diagnostic } from "../errors.js";
import { readKernelModule, vermagicRelease, modinfoValues, type KernelModule } from "../formats/elf/kernel-module.js";
import { MACHINE_NAMES } from "../formats/elf/reader.js";
import { gunzipSource } from "../formats/gzip/inflate.js";
import { gzipSync } from "node:zlib";
import { localPackageOf, type ExtensionFile } from "../manifest/types.js";
import { debDataTar, isDeb } from "../formats/deb/ar.js";
import { tar } from "../formats/tar/codec.js";
import { insideFileSource } from "../io/inside-file.js";
import { extensionFiles, fileInExtension } from "../tinycore/extension-files.js";
import { collect, fileEntry, fileFrom, openContent, readSmallText, type Entry } from "../tree/entry.js";
import type { FileTree } from "../tree/file-tree.js";
import type { PruneRule } from "../tree/prune.js";
import { depmod, moduleName, type PlacedModule } from "./depmod.js";
import { fileEntries } from "./files.js";
import type { OverlayInput } from "./types.js";

const MODULE = /\.ko(\.gz)?$/;
/** The largest modules (GPU drivers) are tens of MiB. */
const MAX_MODULE = 256 * 1024 * 1024;
const MACHINE = { x86: { machine: 3, bits: 32 }, x86_64: { machine: 62, bits: 64 } } as const;

export interface PlacedModules {
  entries: Entry[];
  /** Firmware files the added modules name (.modinfo firmware=), for the image check. */
  firmware: { at: number; module: string; file: string }[];
}

async function moduleOf(e: Entry, input: OverlayInput): Promise<KernelModule> {
  const src = e.path.endsWith(".gz")
    ? await gunzipSource(openContent(e), { label: e.path, limits: input.limits })
    : openContent(e);
  return readKernelModule(src, e.path.split("/").pop());
}

/**
 * kernel_modules placed, and the dependency files for the base's modules (less those prune:
 * removed, `removed` saying by which rule) plus these; nothing when neither adds nor removes one.
 */
export async function kernelModuleEntries(
  input: OverlayInput,
  problems: string[],
  base: FileTree = input.base,
  removed: ReadonlyMap<string, PruneRule> = new Map(),
): Promise<PlacedModules> {
  const wanted = input.manifest.kernel_modules ?? [];
  const prunedModules = [...removed.keys()].filter((p) => p.startsWith("lib/modules/") && MODULE.test(p));
  if (!wanted.length && !prunedModules.length) return { entries: [], firmware: [] };
  const release = input.lock.kernel;
  if (!release) {
    problems.push("kernel_modules: the base's kernel release is not known (set kernel: in the manifest)");
    return { entries: [], firmware: [] };
  }
  const dir = `lib/modules/${release}`;
  const placed: Entry[] = [];
  for (const [i, k] of wanted.entries()) {
    const to = `${dir}/${k.path}`;
    const found = await moduleFile(input, k, i, to, problems);
    if (found) placed.push(await compressedAs(found, to, input));
  }
  if (placed.length !== wanted.length) return { entries: [], firmware: [] };

  // The base's modules, then the added ones (replacing a base module at the same path).
  const modules = new Map<string, PlacedModule>();
  for (const e of base.values())
    if (e.type === "file" && e.path.startsWith(`${dir}/`) && MODULE.test(e.path))
      modules.set(e.path.slice(dir.length + 1), {
        path: e.path.slice(dir.length + 1),
        module: await moduleOf(e, input),
      });
  const firmware: PlacedModules["firmware"] = [];
  const want = MACHINE[input.manifest.base.arch];
  const wrong: Diagnostic[] = [];
  const refuse = (i: number, message: string, hint?: string) =>
    void wrong.push({
      severity: "error",
      ...(input.locate?.(["kernel_modules", i]) ?? { file: "", line: 0, column: 0 }),
      path: keyPath(["kernel_modules", i]),
      message,
      ...(hint ? { hint } : {}),
    });
  const added: string[] = [];
  for (const [i, e] of placed.entries()) {
    const path = wanted[i]!.path;
    let m: KernelModule;
    try {
      m = await moduleOf(e, input);
    } catch (err) {
      if (!(err instanceof FormatError)) throw err;
      refuse(i, err.detail);
      continue;
    }
    const name = path.split("/").pop()!;
    const built = vermagicRelease(m);
    if (m.machine !== want.machine || m.bits !== want.bits)
      refuse(
        i,
        `${name} is for ${MACHINE_NAMES[m.machine] ?? `machine ${m.machine}`} (${m.bits}-bit), the base is ${input.manifest.base.arch}`,
      );
    else if (!built) refuse(i, `${name} has no vermagic in .modinfo: the kernel would refuse it`);
    else if (built !== release)
      refuse(
        i,
        `${name} was built for kernel ${built}, the base's kernel is ${release}`,
        "it would not load: take the module built for the base's kernel",
      );
    modules.set(path, { path, module: m });
    added.push(path);
    for (const file of modinfoValues(m, "firmware")) firmware.push({ at: i, module: name, file });
  }
  // Every depends= of an added module: among the base's, the builtin extensions' and the added ones.
  const names = new Set([...modules.keys()].map(moduleName));
  for (const x of input.lock.extensions.filter((e) => e.role === "builtin"))
    for (const f of await extensionFiles(x.name, input.blob(x.sha256), input.limits))
      if (f.path.includes("/lib/modules/") && MODULE.test(f.path)) names.add(moduleName(f.path));
  for (const path of added) {
    const i = wanted.findIndex((k) => k.path === path);
    const needs = modinfoValues(modules.get(path)!.module, "depends")
      .flatMap((d) => d.split(","))
      .filter(Boolean);
    const missing = needs.filter((d) => !names.has(d.replaceAll("-", "_")));
    if (missing.length)
      refuse(
        i,
        `${path.split("/").pop()} needs ${missing.join(", ")} (its depends=), which the image does not have`,
        `add ${missing.length > 1 ? "them" : "it"} to kernel_modules`,
      );
  }
  // A module prune: left in must not need one it took out.
  const gone = new Map(prunedModules.map((p) => [moduleName(p), removed.get(p)!]));
  for (const m of modules.values())
    for (const d of modinfoValues(m.module, "depends").flatMap((x) => x.split(","))) {
      const rule = gone.get(d.replaceAll("-", "_"));
      if (rule && !names.has(d.replaceAll("-", "_")))
        problems.push(
          `prune[${rule.index}] ${rule.glob} removes ${d}, which ${m.path.split("/").pop()} (left in) needs: narrow the rule, or remove that module too`,
        );
    }
  if (wrong.length) throw new MkError("manifest", wrong);

  const baseFile = (name: string) => input.base.get(`${dir}/${name}`);
  const orderEntry = baseFile("modules.order");
  const order = (
    orderEntry?.type === "file" ? (await readSmallText(orderEntry)).split("\n").filter(Boolean) : []
  ).filter((p) => !removed.has(`${dir}/${p}`));
  const newOrder = [...order, ...added.filter((p) => !order.includes(p))];
  const files = depmod([...modules.values()], newOrder);
  if (files.loops.length)
    problems.push(`kernel_modules: modules that need each other in a loop: ${files.loops.join(", ")}`);
  const epoch = input.manifest.epoch;
  const generated = (name: string, text: string) => {
    const b = baseFile(name);
    return fileEntry(`${dir}/${name}`, Buffer.from(text), epoch, b?.mode ?? 0o644, b?.uid ?? 0, b?.gid ?? 0);
  };
  return {
    entries: [
      ...placed,
      generated("modules.order", newOrder.map((p) => `${p}\n`).join("")),
      ...(["modules.dep", "modules.alias", "modules.softdep", "modules.symbols"] as const).map((n) =>
        generated(n, files[n]),
      ),
    ],
    firmware,
  };
}

/** The module a kernel_modules entry names: a file, an extension's, a .tcz's, or a pinned download's. */
async function moduleFile(
  input: OverlayInput,
  k: NonNullable<OverlayInput["manifest"]["kernel_modules"]>[number],
  i: number,
  to: string,
  problems: string[],
): Promise<Entry | undefined> {
  const at = `kernel_modules[${i}]`;
  if ("url" in k) {
    const downloads = (input.manifest.kernel_modules ?? []).slice(0, i).filter((x) => "url" in x).length;
    const pin = input.lock.kernelModules?.[downloads];
    if (!pin || pin.sha256 !== k.sha256) {
      problems.push(`${at}: the lock does not pin ${k.url}; run mkbundle lock --update`);
      return undefined;
    }
    return fileFrom(k.url.split("/").pop()!, input.blob(pin.sha256), input.manifest.epoch);
  }
  const local = localPackageOf(k);
  if (local) return fromLocalPackage(input, local, at, problems);
  const from = "source" in k ? { source: k.source } : { extract: k.extract as ExtensionFile };
  const spec = { ...from, path: `/${to}`, mode: "0644", owner: "0:0" };
  return (await fileEntries(input, problems, [spec], () => at))[0];
}

/** Each package's files, read once per build however many modules come out of it. */
const packages = new WeakMap<OverlayInput, Map<string, Promise<Entry[]>>>();

/** A .tcz (squashfs) or a .deb (its data.tar) next to the manifest, as entries. */
function packageFiles(input: OverlayInput, file: string): Promise<Entry[]> {
  let known = packages.get(input);
  if (!known) packages.set(input, (known = new Map<string, Promise<Entry[]>>()));
  let files = known.get(file);
  if (!files) {
    const src = insideFileSource(input.manifestDir, file);
    files = isDeb(src.read(0, 8))
      ? debDataTar(src, input.limits, file).then((tarSource) => collect(tar.read(tarSource, input.limits)))
      : extensionFiles(file, src, input.limits);
    known.set(file, files);
  }
  return files;
}

/** The module in a .tcz or .deb next to the manifest: at its path there, or the one file with its name. */
async function fromLocalPackage(
  input: OverlayInput,
  x: { file: string; path: string },
  at: string,
  problems: string[],
): Promise<Entry | undefined> {
  let files: Entry[];
  try {
    files = await packageFiles(input, x.file);
  } catch (e) {
    if (!(e instanceof FormatError)) throw e;
    problems.push(`${at}: ${x.file}: ${e.format}: ${e.detail}`);
    return undefined;
  }
  const bare = (p: string) => p.split("/").pop()!.replace(/\.gz$/, "");
  const hits = x.path.includes("/")
    ? [fileInExtension(files, x.path)].filter((f): f is Entry => typeof f !== "string")
    : files.filter((f) => f.type === "file" && bare(f.path) === bare(x.path));
  if (hits.length === 1) return hits[0];
  const modules = files.filter((f) => f.type === "file" && MODULE.test(f.path)).map((f) => f.path);
  problems.push(
    hits.length
      ? `${at}: ${x.file} has ${hits.length} files named ${x.path} (${hits.map((h) => h.path).join(", ")}): give its path`
      : `${at}: ${x.file} has no ${x.path}${modules.length ? ` (its modules: ${modules.slice(0, 8).join(", ")})` : " (and no module at all)"}`,
  );
  return undefined;
}

/** The module at `to`, gzip'd or not as its name says (Hanlon's lists name a .ko.gz for a .ko, and the reverse). */
async function compressedAs(e: Entry, to: string, input: OverlayInput): Promise<Entry> {
  const epoch = input.manifest.epoch;
  const [from, want] = [e.path.endsWith(".gz"), to.endsWith(".gz")];
  if (from === want) return { ...e, path: to, mode: 0o644, uid: 0, gid: 0, mtime: epoch };
  if (e.size > MAX_MODULE) throw new MkError("input", `${to}: a module of ${e.size} bytes (at most ${MAX_MODULE})`);
  const plain = from
    ? await gunzipSource(openContent(e), { label: e.path, limits: { ...input.limits, bytes: MAX_MODULE } })
    : openContent(e);
  const bytes = plain.read(0, plain.size);
  return fileEntry(to, want ? gzipSync(bytes, { level: 9 }) : bytes, epoch);
}
