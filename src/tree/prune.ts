// prune: globs of files left out of the image, applied to the base initrd and to builtin
// extensions (never to what the manifest adds). Each path is decided on its own by the last
// rule that matches it: `**` is any number of directories (none too), `*` and `?` stay within
// a name, a leading `!` keeps what an earlier rule removed. A directory goes only when nothing
// under it stays, and a hard link's file stays while the link does.
import { MkError } from "../errors.js";
import type { Entry } from "./entry.js";
import { parentsOf } from "./file-tree.js";

export interface PruneRule {
  /** As the manifest writes it. */
  glob: string;
  /** prune[index]. */
  index: number;
  keep: boolean;
  /** The glob's parts between slashes, repeated ** folded into one. */
  parts: string[];
}

/** What one rule removed: from which part of the image, how many entries and file bytes. */
export interface RuleEffect {
  glob: string;
  index: number;
  files: number;
  bytes: number;
}

/** Where a pruned entry was: the base initrd, or a builtin extension (NAME.tcz). */
export interface Pruned {
  kept: Entry[];
  /** Removed paths and the rule that removed each. */
  removed: Map<string, PruneRule>;
}

const MAX_RULES = 1000;
const MAX_GLOB = 4096;

/** One name against one glob part: `*` and `?` by the two-pointer walk (no backtracking blow-up). */
function nameMatches(pat: string, name: string): boolean {
  let p = 0;
  let n = 0;
  let star = -1;
  let resume = 0;
  while (n < name.length) {
    if (p < pat.length && (pat[p] === "?" || pat[p] === name[n])) {
      p++;
      n++;
    } else if (p < pat.length && pat[p] === "*") {
      star = p++;
      resume = n;
    } else if (star >= 0) {
      p = star + 1;
      n = ++resume;
    } else return false;
  }
  while (p < pat.length && pat[p] === "*") p++;
  return p === pat.length;
}

/** A path against glob parts, `**` standing for any number of names: O(parts x names) with a memo. */
function pathMatches(parts: readonly string[], names: readonly string[]): boolean {
  const memo = new Map<number, boolean>();
  const at = (i: number, j: number): boolean => {
    if (i === parts.length) return j === names.length;
    const key = i * (names.length + 1) + j;
    const known = memo.get(key);
    if (known !== undefined) return known;
    const result =
      parts[i] === "**"
        ? at(i + 1, j) || (j < names.length && at(i, j + 1))
        : j < names.length && nameMatches(parts[i]!, names[j]!) && at(i + 1, j + 1);
    memo.set(key, result);
    return result;
  };
  return at(0, 0);
}

export const GLOB_HINT = "like usr/share/doc/** or **/*.a; no leading /, no empty or .. parts";

/** Why `g` (a prune: item) is no relative glob, or undefined when it is one. */
export function globProblem(g: string): string | undefined {
  const glob = g.startsWith("!") ? g.slice(1) : g;
  if (glob.length > MAX_GLOB) return `a glob of ${glob.length} characters; at most ${MAX_GLOB}`;
  if (!glob || glob.startsWith("/") || glob.split("/").some((s) => s === "" || s === ".."))
    return `'${g}' is not a relative glob`;
  return undefined;
}

/** The manifest's prune: list as rules; a glob that cannot be a relative path is an error at its index. */
export function pruneRules(globs: readonly string[]): PruneRule[] {
  if (globs.length > MAX_RULES) throw new MkError("manifest", `prune: ${globs.length} rules; at most ${MAX_RULES}`);
  return globs.map((g, index) => {
    const keep = g.startsWith("!");
    const glob = keep ? g.slice(1) : g;
    if (globProblem(g))
      throw new MkError("manifest", `prune[${index}]: '${g}' is not a relative glob`, { hint: GLOB_HINT });
    return { glob: g, index, keep, parts: glob.split("/").filter((s, i, all) => !(s === "**" && all[i - 1] === "**")) };
  });
}

/** Whether a relative glob (as prune: has them, without '!') matches an image path. */
export const globMatches = (glob: string, path: string): boolean =>
  pathMatches(
    glob.split("/").filter((s, i, all) => !(s === "**" && all[i - 1] === "**")),
    path.split("/"),
  );

/** The rule that removes `path`, or undefined when it stays. */
export function removingRule(rules: readonly PruneRule[], path: string): PruneRule | undefined {
  const names = path.split("/");
  for (let i = rules.length - 1; i >= 0; i--)
    if (pathMatches(rules[i]!.parts, names)) return rules[i]!.keep ? undefined : rules[i];
  return undefined;
}

/** `entries` less what the rules remove: directories with something kept under them and hard links' files stay. */
export function prune(entries: readonly Entry[], rules: readonly PruneRule[]): Pruned {
  const removed = new Map<string, PruneRule>();
  if (!rules.length) return { kept: [...entries], removed };
  for (const e of entries) {
    const rule = removingRule(rules, e.path);
    if (rule) removed.set(e.path, rule);
  }
  for (const e of entries) {
    if (removed.has(e.path)) continue;
    for (const p of parentsOf(e.path)) removed.delete(p);
    if (e.type === "hardlink" && e.linkTarget) removed.delete(e.linkTarget);
  }
  return { kept: entries.filter((e) => !removed.has(e.path)), removed };
}

/** Per rule, what it removed from `entries` (a removing rule that matched nothing has files 0). */
export function ruleEffects(
  rules: readonly PruneRule[],
  parts: readonly { entries: readonly Entry[]; pruned: Pruned }[],
): RuleEffect[] {
  const effects = rules.filter((r) => !r.keep).map((r) => ({ glob: r.glob, index: r.index, files: 0, bytes: 0 }));
  const byIndex = new Map(effects.map((x) => [x.index, x]));
  for (const { entries, pruned } of parts)
    for (const e of entries) {
      const rule = pruned.removed.get(e.path);
      if (!rule) continue;
      const x = byIndex.get(rule.index)!;
      x.files++;
      if (e.type === "file") x.bytes += e.size;
    }
  return effects;
}
