// manifest + lock + base initrd -> the overlay: every file mkbundle adds or changes, with
// the parent directories it needs (existing ones exactly as the base has them). Then the
// checks on the image it makes: every service's program is there, and prod is audited.
import { MkError } from "../errors.js";
import { flavourPolicy } from "../manifest/flavour.js";
import { extensionFiles } from "../tinycore/extension-files.js";
import { type Entry } from "../tree/entry.js";
import { addParents, mergeEntry, sorted, treeOf, type FileTree } from "../tree/file-tree.js";
import { accountEntries } from "./accounts.js";
import { auditImage } from "./audit.js";
import { extensionEntries, gemEntries } from "./extensions.js";
import { fileEntries } from "./files.js";
import { kernelModuleEntries, type PlacedModules } from "./kernel-modules.js";
import { checkLibraries, type Brought } from "./libraries.js";
import { checkServiceCommands } from "./service-commands.js";
import { seedEntries } from "./seed.js";
import { serviceEntries } from "./services.js";
import type { OverlayInput } from "./types.js";

export interface CompiledOverlay {
  entries: Entry[];
  /** persist.seed: what a new data partition starts with, as the partition lays it out. */
  seed: Entry[];
  /** What the manifest's programs need, "SONAME OWNER" (overlay/libraries.ts); undefined when not checked. */
  libraries?: string[];
}

export async function compileOverlay(input: OverlayInput): Promise<CompiledOverlay> {
  const problems: string[] = typeof input.tcField === "string" ? [] : [input.tcField.problem];
  const overlay: FileTree = new Map();
  const modules = await kernelModuleEntries(input, problems);
  // Later groups win: a files: entry may replace a generated file on purpose.
  const groups = [
    extensionEntries(input),
    gemEntries(input),
    await accountEntries(input),
    await serviceEntries(input),
    modules.entries,
    await fileEntries(input, problems),
  ];
  for (const e of groups.flat()) overlay.set(e.path, e);
  for (const path of [...overlay.keys()]) addParents(overlay, path, input.base, input.manifest.epoch);
  const seed = await seedEntries(input, problems);
  if (problems.length) throw new MkError("build", problems);

  // The booted system: the base, the overlay on top, the data partition's seed mounted over
  // /home and /opt, and what the builtin extensions bring.
  const final = treeOf(input.base.values());
  for (const e of overlay.values()) mergeEntry(final, e);
  for (const e of seed) mergeEntry(final, e);
  const fromBuiltins = new Map<string, Entry>();
  const owner = new Map<string, string>();
  const brought: Brought[] = [];
  const locals = input.manifest.extensions.local.map((l) => l.name);
  for (const x of input.lock.extensions.filter((e) => e.role === "builtin" || locals.includes(e.name))) {
    const files = await extensionFiles(x.name, input.blob(x.sha256), input.limits);
    const local = locals.indexOf(x.name);
    const at = local >= 0 ? ["extensions", "local", local] : extensionKey(input, x.name);
    for (const e of files) {
      if (x.role === "builtin") fromBuiltins.set(e.path, e);
      if (x.role === "builtin" && !final.has(e.path)) owner.set(e.path, `${x.name}.tcz`);
      if (e.type === "file") brought.push({ entry: e, at, ...(local < 0 ? { fromMirror: x.name } : {}) });
    }
  }
  await warnMissingFirmware(input, modules.firmware, (p) => final.has(p) || fromBuiltins.has(p));
  checkServiceCommands(
    input,
    (p) => final.has(p) || fromBuiltins.has(p),
    () => [...final.keys(), ...fromBuiltins.keys()],
  );
  input.manifest.files.forEach((f, i) => {
    const e = final.get(f.path.replace(/^\/+/, ""));
    if (e?.type === "file") brought.push({ entry: e, at: ["files", i] });
  });
  const present = new Set(input.lock.extensions.filter((e) => e.role === "builtin").map((e) => e.name));
  const libraries = await checkLibraries(
    input,
    (p) => final.get(p) ?? fromBuiltins.get(p),
    brought,
    input.providers ?? noIndex,
    present,
    (p) => owner.get(p) ?? (overlay.has(p) ? "overlay" : "base"),
  );
  if (flavourPolicy(input.manifest.flavour).audited) {
    const requiredBy = new Map(input.lock.extensions.map((x) => [x.name, x.requiredBy]));
    const audit = await auditImage(final, { limits: input.limits, requiredBy });
    if (audit.length) throw new MkError("build", audit);
  }
  return { entries: sorted(overlay), seed, ...(libraries ? { libraries } : {}) };
}

/** Where the manifest names an extension, or the dependency it came in as. */
function extensionKey(input: OverlayInput, name: string): (string | number)[] {
  const i = input.manifest.extensions.builtin.indexOf(name);
  return i >= 0 ? ["extensions", "builtin", i] : ["extensions", "builtin"];
}

const noIndex = async (): Promise<undefined> => undefined;

/**
 * A driver that names firmware the image lacks loads and then fails: a warning, with the
 * extension that has the file when the mirror's provides.db knows one.
 */
async function warnMissingFirmware(
  input: OverlayInput,
  firmware: PlacedModules["firmware"],
  has: (path: string) => boolean,
): Promise<void> {
  const present = new Set(input.lock.extensions.map((x) => x.name));
  for (const f of firmware) {
    if (has(`lib/firmware/${f.file}`) || has(`usr/local/lib/firmware/${f.file}`)) continue;
    const offer = (await input.providers?.(f.file.split("/").pop()!, present))?.[0];
    input.log.warn(
      `kernel_modules[${f.at}]: ${f.module} asks for firmware ${f.file}, which the image does not have${offer ? ` (${offer.extension}.tcz has /${offer.path})` : ""}`,
    );
  }
}
