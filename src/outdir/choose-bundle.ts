// Which bundle rebuild-iso uses when none is named: the one the last `mkbundle bundle` (or
// Razor's -b/-m run) wrote in this --out, as recorded there; without a record, the only
// bundle there is. Several and no record: a refusal that lists them. Never "the newest file".
import { existsSync, readdirSync } from "node:fs";
import { basename, join } from "node:path";
import { MkError } from "../errors.js";
import { BUNDLE_FILE } from "./names.js";
import { readState, updateState } from "./state.js";

/** Remembers the bundle a bundle stage wrote (or found unchanged) in `out`. */
export async function recordLastBundle(out: string, bundle: string): Promise<void> {
  await updateState(out, (s) => void (s.lastBundle = basename(bundle)));
}

/** The bundle the last bundle stage recorded in `out`, if it is still there. */
export function lastBundle(out: string): string | undefined {
  const recorded = readState(out).lastBundle;
  return recorded && BUNDLE_FILE.test(recorded) && existsSync(join(out, recorded)) ? join(out, recorded) : undefined;
}

export function chooseBundle(out: string, named?: string): { path: string; why: string } {
  if (named) {
    if (!existsSync(named)) throw new MkError("usage", "bundle not found", { file: named });
    return { path: named, why: "--bundle" };
  }
  const last = lastBundle(out);
  if (last) return { path: last, why: `the last bundle written in ${out}` };
  let names: string[] = [];
  try {
    names = readdirSync(out)
      .filter((f) => BUNDLE_FILE.test(f))
      .sort();
  } catch {
    // no output directory: nothing built yet
  }
  if (names.length === 1) return { path: join(out, names[0]!), why: `the only bundle in ${out}` };
  if (!names.length)
    throw new MkError("usage", "no *-bundle-*.tar.gz here", {
      file: out,
      hint: "run mkbundle bundle MANIFEST (or Razor's mkbundle -b builtin.lst -m mirror.lst [-p]) with this --out first, or pass --bundle FILE",
    });
  throw new MkError(
    "usage",
    `${names.length} bundles here and no record of which was written last: ${names.join(", ")}`,
    { file: out, hint: "pass --bundle FILE" },
  );
}
