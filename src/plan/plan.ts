// What a build would change, for review: extensions and gems added, removed or changed
// (with sizes), overlay files, flavour, and the size delta.
import { createHash } from "node:crypto";
import type { Lock } from "../lock/lock-file.js";
import { SHADOW } from "../tinycore/accounts.js";
import type { ResolvedManifest } from "../manifest/types.js";
import type { RuleEffect } from "../tree/prune.js";
import { readContent, type Entry } from "../tree/entry.js";

export interface FileFacts {
  sha256: string;
  size: number;
  mode: number;
  owner: string;
}

export interface State {
  flavour?: string;
  /** What the image boots with and runs, as comparable text (settingsOf). */
  settings?: Map<string, string>;
  lock?: Lock;
  /** Overlay files by path (directories left out); undefined when unknown. */
  files?: Map<string, FileFacts>;
  /** "SONAME OWNER" lines the manifest's programs need; undefined when unknown. */
  libraries?: string[];
  /** What each prune: rule removes, when known (an empty list: no rules). */
  pruned?: RuleEffect[];
}

type ChangeKind = "added" | "removed" | "changed";

interface Change {
  kind: ChangeKind;
  name: string;
  before?: number; // size in bytes
  after?: number;
  detail?: string;
}

export interface Plan {
  flavour?: { before: string; after: string };
  /** Boot line, timeout, volume id, version, services: changed values with before -> after. */
  settings?: Change[];
  extensions: Change[];
  gems: Change[];
  files?: Change[];
  /** Shared libraries the manifest's programs need, with where the image has each. */
  libraries?: Change[];
  /** prune: what each rule removes from the base initrd and the builtin extensions, by rule. */
  pruned?: Change[];
  size: { before: number; after: number; delta: number };
  /** Bytes of files prune: removes, before and after, when both are known. */
  prunedBytes?: { before: number; after: number };
}

/**
 * The facts compared for each overlay file, and persist.seed's (named "persist.seed PATH").
 * A crypt hash in etc/shadow counts as "a hash": its random salt changes every build and
 * says nothing about what changed.
 */
export async function overlayFacts(entries: readonly Entry[], seed: readonly Entry[]): Promise<Map<string, FileFacts>> {
  const out = new Map<string, FileFacts>();
  for (const e of [...entries, ...seed.map((x) => ({ ...x, path: `persist.seed /${x.path}` }))]) {
    if (e.type === "dir") continue;
    const data = e.type === "file" ? readContent(e) : Buffer.from(e.linkTarget ?? "");
    const compared =
      e.path === SHADOW ? Buffer.from(data.toString("utf8").replace(/\$[0-9a-z]+\$[^:\n]*/g, "$crypt")) : data;
    out.set(e.path, {
      sha256: createHash("sha256").update(compared).digest("hex"),
      size: data.length,
      mode: e.mode,
      owner: `${e.uid}:${e.gid}`,
    });
  }
  return out;
}

/** The manifest's settings a reviewer cares about besides files and extensions, as text. */
const uefiOf = (m: ResolvedManifest): string => {
  const l = m.boot.uefi?.loader;
  if (!l) return "(BIOS only)";
  return "url" in l ? `loader ${l.url} (sha256 ${l.sha256.slice(0, 12)}…)` : `loader ${l.path} from ${l.extension}`;
};

export function settingsOf(m: ResolvedManifest): Map<string, string> {
  const out = new Map<string, string>([
    ["version", m.version ?? "(none)"],
    ["boot.append", m.boot.append.join(" ") || "(none)"],
    ["boot.timeout", m.boot.timeout === undefined ? "(the base's)" : `${m.boot.timeout} s`],
    ["boot.volume_id", m.boot.volume_id ?? "(the base's)"],
    ["base", m.base.iso ?? `${m.base.kernel} + ${(m.base.initrds ?? []).join(", ")}`],
    ["boot.uefi", uefiOf(m)],
    [
      "persist",
      m.persist
        ? `${m.persist.size} bytes labelled ${m.persist.label}: ${m.persist.paths.join(", ")}`
        : "(nothing kept across boots)",
    ],
  ]);
  out.set(
    "budget",
    m.budget
      ? Object.entries(m.budget)
          .map(([k, v]) => `${k} ${v} bytes`)
          .join(", ")
      : "(none)",
  );
  for (const s of m.services)
    out.set(
      `service ${s.name}`,
      `${s.run.trim().split("\n").join("; ")} (log ${s.log}${s.restart && s.restart !== "no" ? `, restart ${s.restart}` : ""})`,
    );
  return out;
}

/** Added, removed and changed keys; `detail` may explain any of them. */
function diff<T>(
  before: Map<string, T>,
  after: Map<string, T>,
  size: (t: T) => number,
  same: (a: T, b: T) => boolean,
  detail: (a: T | undefined, b: T | undefined) => string | undefined = () => undefined,
): Change[] {
  const out: Change[] = [];
  const add = (c: Change, a: T | undefined, b: T | undefined) => {
    const d = detail(a, b);
    out.push(d ? { ...c, detail: d } : c);
  };
  for (const [k, b] of after) {
    const a = before.get(k);
    if (!a) add({ kind: "added", name: k, after: size(b) }, a, b);
    else if (!same(a, b)) add({ kind: "changed", name: k, before: size(a), after: size(b) }, a, b);
  }
  for (const [k, a] of before) if (!after.has(k)) add({ kind: "removed", name: k, before: size(a) }, a, undefined);
  return out.sort((x, y) => x.name.localeCompare(y.name));
}

export function makePlan(before: State, after: State & { lock: Lock }): Plan {
  const ext = (l?: Lock) => new Map((l?.extensions ?? []).map((e) => [`${e.name}.tcz (${e.role})`, e]));
  const gems = (l?: Lock) => new Map((l?.gems ?? []).map((g) => [g.name, g]));
  const extensions = diff(
    ext(before.lock),
    ext(after.lock),
    (e) => e.size,
    (a, b) => a.sha256 === b.sha256,
    (_a, b) =>
      b && !b.requiredBy.every((r) => r.startsWith("extensions."))
        ? `needed by ${b.requiredBy.filter((r) => !r.startsWith("extensions.")).join(", ")}`
        : undefined,
  );
  // Gem sizes are not pinned: a gem is shown with its version.
  const gemChanges = diff(
    gems(before.lock),
    gems(after.lock),
    () => 0,
    (a, b) => a.sha256 === b.sha256,
    (a, b) => (a && b ? `${a.version} -> ${b.version}` : (a ?? b)!.version),
  );
  const files =
    before.files && after.files
      ? diff(
          before.files,
          after.files,
          (f) => f.size,
          (a, b) => a.sha256 === b.sha256 && a.mode === b.mode && a.owner === b.owner,
          (a, b) =>
            a && b && a.sha256 === b.sha256
              ? `mode ${a.mode.toString(8)} ${a.owner} -> ${b.mode.toString(8)} ${b.owner}`
              : undefined,
        )
      : undefined;
  const needs = (l: string[]) =>
    new Map(l.map((line) => [line.slice(0, line.indexOf(" ")), line.slice(line.indexOf(" ") + 1)]));
  const libraries =
    before.libraries && after.libraries
      ? diff(
          needs(before.libraries),
          needs(after.libraries),
          () => 0,
          (x, y) => x === y,
          (x, y) => (x !== undefined && y !== undefined ? `from ${x} -> ${y}` : `from ${x ?? y}`),
        )
      : undefined;
  const rules = (s: State) => new Map((s.pruned ?? []).map((x) => [x.glob, x]));
  const pruned =
    before.pruned && after.pruned
      ? diff(
          rules(before),
          rules(after),
          (x) => x.bytes,
          (x, y) => x.bytes === y.bytes && x.files === y.files,
          (x, y) => `${y ? `${y.files} entries` : "no longer pruned"}${x && y ? `, was ${x.files}` : ""}`,
        )
      : undefined;
  const removedBytes = (s: State) => (s.pruned ?? []).reduce((n, x) => n + x.bytes, 0);
  const total = (s: State) =>
    s.files
      ? [...s.files.values()].reduce((n, f) => n + f.size, 0)
      : (s.lock?.extensions ?? []).filter((e) => e.role !== "extract").reduce((n, e) => n + e.size, 0);
  const [b, a] = [total(before), total(after)];
  const settings =
    before.settings && after.settings
      ? diff(
          before.settings,
          after.settings,
          () => 0,
          (x, y) => x === y,
          (x, y) => (x !== undefined && y !== undefined ? `${x} -> ${y}` : (x ?? y)),
        )
      : undefined;
  return {
    ...(before.flavour && after.flavour && before.flavour !== after.flavour
      ? { flavour: { before: before.flavour, after: after.flavour } }
      : {}),
    ...(settings ? { settings } : {}),
    extensions,
    gems: gemChanges,
    ...(files ? { files } : {}),
    ...(libraries ? { libraries } : {}),
    ...(pruned ? { pruned } : {}),
    size: { before: b, after: a, delta: a - b },
    ...(before.pruned && after.pruned && (before.pruned.length || after.pruned.length)
      ? { prunedBytes: { before: removedBytes(before), after: removedBytes(after) } }
      : {}),
  };
}

const SIGN: Record<ChangeKind, string> = { added: "+", removed: "-", changed: "~" };

export function renderPlan(p: Plan, title: string, human: (n: number) => string): string {
  const lines = [`### ${title}`, ""];
  const section = (name: string, changes: Change[] | undefined, sized = true) => {
    if (!changes) return;
    lines.push(`${name}: ${changes.length ? `${changes.length} change${changes.length > 1 ? "s" : ""}` : "no change"}`);
    for (const c of changes) {
      const size = !sized
        ? ""
        : c.kind === "changed"
          ? ` ${human(c.before!)} -> ${human(c.after!)}`
          : ` ${c.kind === "added" ? "+" : "-"}${human((c.after ?? c.before)!)}`;
      lines.push(`  ${SIGN[c.kind]} ${c.name}${size}${c.detail ? ` (${c.detail})` : ""}`);
    }
  };
  if (p.flavour) lines.push(`flavour: ${p.flavour.before} -> ${p.flavour.after}`);
  section("settings", p.settings, false);
  section("extensions", p.extensions);
  section("gems", p.gems, false);
  section("overlay files", p.files);
  section("libraries the programs need", p.libraries, false);
  section("bytes each prune rule removes", p.pruned);
  const d = p.size.delta;
  const signed = (n: number) => `${n >= 0 ? "+" : "-"}${human(Math.abs(n))}`;
  lines.push(
    "",
    `size: ${human(p.size.before)} -> ${human(p.size.after)} (${signed(d)})${p.files ? " of overlay files" : " of extensions"}`,
  );
  if (p.prunedBytes)
    lines.push(
      `pruned: ${human(p.prunedBytes.before)} -> ${human(p.prunedBytes.after)} of files left out of the base and builtin extensions (${signed(p.prunedBytes.after - p.prunedBytes.before)})`,
    );
  return lines.join("\n");
}
