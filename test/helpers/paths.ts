import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** The shared Tiny Core fixtures: ../shared/fixtures, or $MKBUNDLE_FIXTURES. */
export function fixturesDir(): string {
  const dir = process.env["MKBUNDLE_FIXTURES"] ?? join(repoRoot, "..", "shared", "fixtures");
  if (!existsSync(dir)) throw new Error(`fixtures not found at ${dir}; set MKBUNDLE_FIXTURES`);
  return dir;
}
