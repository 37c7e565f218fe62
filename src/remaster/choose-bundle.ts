// Which bundle rebuild-iso uses when none is named: the newest *-bundle-<flavour>.tar.gz in --out.
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { MkError } from "../errors.js";

export function chooseBundle(out: string, named?: string): string {
  if (named) {
    if (!existsSync(named)) throw new MkError("usage", "bundle not found", { file: named });
    return named;
  }
  let found: { path: string; mtime: number } | undefined;
  let names: string[] = [];
  try {
    names = readdirSync(out);
  } catch {
    // no output directory: nothing built yet
  }
  for (const f of names) {
    if (!/-bundle-(dev|prod|debug)\.tar\.gz$/.test(f)) continue;
    const mtime = statSync(join(out, f)).mtimeMs;
    if (!found || mtime > found.mtime) found = { path: join(out, f), mtime };
  }
  if (!found)
    throw new MkError("usage", "no *-bundle-*.tar.gz here", {
      file: out,
      hint: "run mkbundle bundle MANIFEST first, or pass --bundle FILE",
    });
  return found.path;
}
