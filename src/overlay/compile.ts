// manifest + lock + base initrd -> the overlay: every file mkbundle adds or changes, with
// the parent directories it needs (existing ones exactly as the base has them). Then the
// checks on the image it makes: every service's program is there, and prod is audited.
import { MkError } from "../errors.js";
import { flavourPolicy } from "../manifest/flavour.js";
import { extensionFiles } from "../tinycore/extension-files.js";
import { type Entry } from "../tree/entry.js";
import { addParents, mergeEntry, sorted, treeOf, type FileTree } from "../tree/file-tree.js";
import { accountEntries } from "./accounts.js";
import { auditProd, type AuditedExtension } from "./audit.js";
import { extensionEntries, gemEntries } from "./extensions.js";
import { fileEntries } from "./files.js";
import { checkServiceCommands } from "./service-commands.js";
import { serviceEntries } from "./services.js";
import type { OverlayInput } from "./types.js";

export async function compileOverlay(input: OverlayInput): Promise<Entry[]> {
  const problems: string[] = typeof input.tcField === "string" ? [] : [input.tcField.problem];
  const overlay: FileTree = new Map();
  // Later groups win: a files: entry may replace a generated file on purpose.
  const groups = [
    extensionEntries(input),
    gemEntries(input),
    await accountEntries(input),
    await serviceEntries(input),
    await fileEntries(input, problems),
  ];
  for (const e of groups.flat()) overlay.set(e.path, e);
  for (const path of [...overlay.keys()]) addParents(overlay, path, input.base, input.manifest.epoch);
  if (problems.length) throw new MkError("build", problems);

  // The booted system: the base, the overlay on top, and what the builtin extensions bring.
  const final = treeOf(input.base.values());
  for (const e of overlay.values()) mergeEntry(final, e);
  const listings = await extensionListings(input);
  const fromBuiltins = new Set(
    listings.filter((x) => x.role === "builtin").flatMap((x) => x.entries.map((e) => e.path)),
  );
  checkServiceCommands(input, (p) => final.has(p) || fromBuiltins.has(p));
  if (flavourPolicy(input.manifest.flavour).audited) {
    const audit = await auditProd(final, listings);
    if (audit.length) throw new MkError("build", audit);
  }
  return sorted(overlay);
}

/** Every file of every extension that reaches the image: builtin (loaded at boot) and mirror (installable). */
async function extensionListings(input: OverlayInput): Promise<AuditedExtension[]> {
  const out: AuditedExtension[] = [];
  for (const x of input.lock.extensions.filter((e) => e.role === "builtin" || e.role === "mirror")) {
    out.push({
      name: x.name,
      role: x.role,
      requiredBy: x.requiredBy,
      entries: await extensionFiles(x.name, input.blob(x.sha256), input.limits),
    });
  }
  return out;
}
