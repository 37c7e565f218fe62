// `mkbundle clean`: files in --out that mkbundle wrote and no current build names any more.
// Each build records its outputs in the state file (state.ts); a content-addressed overlay
// (overlay-<sha256>.tar.gz, seed-<sha256>.tar.gz) is replaced by a new name on every change, so old ones pile up.
// Only names mkbundle writes are candidates; anything else in --out is never touched.
import { lstatSync, readdirSync, rmSync } from "node:fs";
import { join, relative } from "node:path";
import { readState } from "./state.js";
import { updateSums } from "./sums.js";

export interface CleanPlan {
  stale: { path: string; size: number }[];
  kept: number;
}

/** What mkbundle writes into --out (the pxe/ files are checked one by one). */
const OURS = [
  /^(?:overlay|seed)-[0-9a-f]{64}\.tar\.gz$/,
  /-bundle-(?:dev|prod|debug)\.tar\.gz$/,
  /\.iso$/,
  /-efi\.img$/,
];

export function planClean(out: string): CleanPlan {
  const named = new Set<string>();
  collectPaths(readState(out).stages, named);
  const stale: CleanPlan["stale"] = [];
  let kept = 0;
  const visit = (dir: string) => {
    for (const name of safeReaddir(dir)) {
      const path = join(dir, name);
      const rel = relative(out, path);
      const st = lstatSync(path);
      if (st.isDirectory() && (rel === "pxe" || rel.startsWith("pxe/"))) visit(path);
      else if (!st.isFile()) continue;
      else if (named.has(rel)) kept++;
      else if (rel.startsWith("pxe/") || OURS.some((p) => p.test(name))) stale.push({ path: rel, size: st.size });
    }
  };
  visit(out);
  return { stale: stale.sort((a, b) => a.path.localeCompare(b.path)), kept };
}

export async function runClean(out: string, plan: CleanPlan): Promise<void> {
  for (const f of plan.stale) rmSync(join(out, f.path), { force: true });
  for (const dir of new Set(plan.stale.map((f) => f.path.split("/").slice(0, -1).join("/")).filter(Boolean)))
    if (!safeReaddir(join(out, dir)).length) rmSync(join(out, dir), { recursive: true, force: true });
  // SHA256SUMS lists what is there: the lines of removed files go.
  await updateSums(
    out,
    [],
    plan.stale.map((f) => f.path),
  );
}

/** Every "path" string anywhere in the stage records. */
function collectPaths(v: unknown, into: Set<string>): void {
  if (Array.isArray(v)) for (const x of v) collectPaths(x, into);
  else if (v && typeof v === "object")
    for (const [k, x] of Object.entries(v)) {
      if (k === "path" && typeof x === "string") into.add(x);
      else collectPaths(x, into);
    }
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
