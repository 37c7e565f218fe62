// manifest + lock + base initrd -> the overlay: every file mkbundle adds or changes, with
// the parent directories it needs (existing ones exactly as the base has them). Then the
// checks on the image it makes: every service's program is there, and prod is audited.
import { posix } from "node:path";
import { MkError } from "../errors.js";
import { flavourPolicy } from "../manifest/flavour.js";
import { extensionFiles } from "../tinycore/extension-files.js";
import { readSmallText, type Entry } from "../tree/entry.js";
import { prune, pruneRules, removingRule, ruleEffects, type PruneRule, type RuleEffect } from "../tree/prune.js";
import { addParents, mergeEntry, sorted, treeOf, type FileTree } from "../tree/file-tree.js";
import { accountEntries } from "./accounts.js";
import { auditImage } from "./audit.js";
import { extensionEntries, gemEntries } from "./extensions.js";
import { fileEntries } from "./files.js";
import { kernelModuleEntries, type PlacedModules } from "./kernel-modules.js";
import { checkLibraries, type Brought } from "./libraries.js";
import { checkServiceCommands, checkServiceUsers } from "./service-commands.js";
import { seedEntries } from "./seed.js";
import { serviceEntries } from "./services.js";
import type { OverlayInput } from "./types.js";

export interface CompiledOverlay {
  entries: Entry[];
  /** persist.seed: what a new data partition starts with, as the partition lays it out. */
  seed: Entry[];
  /** What the manifest's programs need, "SONAME OWNER" (overlay/libraries.ts); undefined when not checked. */
  libraries?: string[];
  /** prune: what each removing rule took out of the base initrd and the builtin extensions (only when there are rules). */
  pruned?: RuleEffect[];
}

export async function compileOverlay(input: OverlayInput): Promise<CompiledOverlay> {
  const problems: string[] = typeof input.tcField === "string" ? [] : [input.tcField.problem];
  const overlay: FileTree = new Map();
  // prune: the base's files (the builtin extensions' below); never the overlay's.
  const rules = pruneRules(input.manifest.prune ?? []);
  const baseEntries = [...input.base.values()];
  const prunedParts = [{ entries: baseEntries, pruned: prune(baseEntries, rules) }];
  const prunedBase = prunedParts[0]!.pruned;
  const modules = await kernelModuleEntries(
    input,
    problems,
    prunedBase.removed.size ? treeOf(prunedBase.kept) : input.base,
    prunedBase.removed,
  );
  // Later groups win: a files: entry may replace a generated file on purpose.
  const groups = [
    extensionEntries(input),
    gemEntries(input),
    await accountEntries(input),
    await serviceEntries(input, problems),
    modules.entries,
    await fileEntries(input, problems),
  ];
  for (const e of groups.flat()) overlay.set(e.path, e);
  for (const path of [...overlay.keys()]) addParents(overlay, path, input.base, input.manifest.epoch);
  const seed = await seedEntries(input, problems);
  if (problems.length) throw new MkError("build", problems);

  // The booted system: the base less what prune: removes, the overlay on top, the data
  // partition's seed mounted over /home and /opt, and what the builtin extensions bring (pruned too).
  const final = treeOf(prunedBase.kept);
  for (const e of overlay.values()) mergeEntry(final, e);
  for (const e of seed) mergeEntry(final, e);
  const fromBuiltins = new Map<string, Entry>();
  const owner = new Map<string, string>();
  const brought: Brought[] = [];
  const locals = input.manifest.extensions.local.map((l) => l.name);
  for (const x of input.lock.extensions.filter((e) => e.role === "builtin" || locals.includes(e.name))) {
    const local = locals.indexOf(x.name);
    let files = await extensionFiles(x.name, input.blob(x.sha256), input.limits);
    if (x.role === "builtin" && local < 0 && rules.length) {
      const pruned = prune(files, rules);
      prunedParts.push({ entries: files, pruned });
      files = pruned.kept;
    }
    const at = local >= 0 ? ["extensions", "local", local] : extensionKey(input, x.name);
    for (const e of files) {
      if (x.role === "builtin") fromBuiltins.set(e.path, e);
      if (x.role === "builtin" && !final.has(e.path)) owner.set(e.path, `${x.name}.tcz`);
      if (e.type === "file") brought.push({ entry: e, at, ...(local < 0 ? { fromMirror: x.name } : {}) });
    }
  }
  const pruned = rules.length ? reportPruned(input, rules, prunedParts) : undefined;
  await warnMissingFirmware(input, modules.firmware, (p) => final.has(p) || fromBuiltins.has(p));
  const passwd = final.get("etc/passwd");
  checkServiceUsers(input, passwd?.type === "file" ? await readSmallText(passwd) : "");
  checkServiceCommands(
    input,
    (p) => final.has(p) || fromBuiltins.has(p),
    () => [...final.keys(), ...fromBuiltins.keys()],
  );
  input.manifest.files.forEach((f, i) => {
    const e = final.get(f.path.replace(/^\/+/, ""));
    if (e?.type === "file") brought.push({ entry: e, at: ["files", i] });
  });
  // A library a rule removed may be one the base's or a builtin's own programs need: they are checked too.
  const prunedLibraries = prunedParts.some(({ pruned }) =>
    [...pruned.removed.keys()].some((p) => /\.so(\.|$)/.test(p)),
  );
  if (prunedLibraries)
    for (const e of final.values())
      if (e.type === "file" && !overlay.has(e.path)) brought.push({ entry: e, at: ["prune"], prunedOnly: true });
  const present = new Set(input.lock.extensions.filter((e) => e.role === "builtin").map((e) => e.name));
  const libraries = await checkLibraries(
    input,
    (p) => final.get(p) ?? fromBuiltins.get(p),
    brought,
    input.providers ?? noIndex,
    present,
    (p) => owner.get(p) ?? (overlay.has(p) ? "overlay" : "base"),
    prunedLibrary(prunedParts),
  );
  if (flavourPolicy(input.manifest.flavour).audited) {
    const requiredBy = new Map(input.lock.extensions.map((x) => [x.name, x.requiredBy]));
    const audit = await auditImage(final, { limits: input.limits, requiredBy });
    if (audit.length) throw new MkError("build", audit);
  }
  return { entries: sorted(overlay), seed, ...(libraries ? { libraries } : {}), ...(pruned ? { pruned } : {}) };
}

/** Says what each rule removes; a rule that removes nothing, or that names a file the manifest adds, is a warning. */
function reportPruned(
  input: OverlayInput,
  rules: ReturnType<typeof pruneRules>,
  parts: Parameters<typeof ruleEffects>[1],
): RuleEffect[] {
  const effects = ruleEffects(rules, parts);
  for (const x of effects)
    if (x.files) input.log.info(`prune[${x.index}] ${x.glob}: ${x.files} entries, ${x.bytes} bytes of files`);
    else input.log.warn(`prune[${x.index}] ${x.glob} removes nothing from the base initrd or the builtin extensions`);
  input.manifest.files.forEach((f, i) => {
    const rule = removingRule(rules, f.path.replace(/^\/+/, ""));
    if (rule)
      input.log.warn(
        `prune[${rule.index}] ${rule.glob} matches files[${i}] ${f.path}, which the manifest adds: prune leaves it in`,
      );
  });
  return effects;
}

/** For a missing library, the rule that removed a file of that name or the file a link of that name points to. */
function prunedLibrary(parts: Parameters<typeof ruleEffects>[1]): (lib: string) => string | undefined {
  const byName = new Map<string, string>();
  for (const { entries, pruned } of parts) {
    const named = (e: Entry, rule: PruneRule) =>
      byName.set(e.path.split("/").pop()!, `prune[${rule.index}] ${rule.glob}`);
    for (const e of entries) {
      const rule = pruned.removed.get(e.path);
      if (rule) named(e, rule);
      else if (e.type === "symlink" && e.linkTarget) {
        const target = posix.normalize(
          e.linkTarget.startsWith("/") ? e.linkTarget.slice(1) : posix.join(posix.dirname(e.path), e.linkTarget),
        );
        const behind = pruned.removed.get(target);
        if (behind) named(e, behind);
      }
    }
  }
  return (lib) => byName.get(lib.split("/").pop()!);
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
