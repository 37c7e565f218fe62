// manifest + lock + base initrd -> the overlay: every file mkbundle adds or changes, with
// the parent directories it needs (existing ones exactly as the base has them).
import { addParents, mergeEntry, sorted, treeOf, type FileTree } from "../tree/file-tree.js";
import type { Entry } from "../tree/entry.js";
import { accountEntries } from "./accounts.js";
import { auditProd } from "./audit.js";
import { extensionEntries, gemEntries } from "./extensions.js";
import { fileEntries } from "./files.js";
import { serviceEntries } from "./services.js";
import { BuildError, type OverlayInput } from "./types.js";

export async function compileOverlay(input: OverlayInput): Promise<Entry[]> {
  const problems: string[] = [];
  const overlay: FileTree = new Map();
  // Later groups win: a files: entry may replace a generated file on purpose.
  const groups = [extensionEntries(input), gemEntries(input), await accountEntries(input, problems), await serviceEntries(input), await fileEntries(input, problems)];
  for (const e of groups.flat()) overlay.set(e.path, e);
  for (const path of [...overlay.keys()]) addParents(overlay, path, input.base, input.epoch);
  if (input.manifest.flavour === "prod" && !problems.length) {
    const final = treeOf(input.base.values());
    for (const e of overlay.values()) mergeEntry(final, e);
    problems.push(...(await auditProd(input, final)));
  }
  if (problems.length) throw new BuildError(problems);
  return sorted(overlay);
}
