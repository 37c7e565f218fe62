import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { packageRoot } from "./package-root.js";

export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), "package.json"), "utf8")) as { version: string }).version;
}

/**
 * The code that is running, by content: a record made by another build of mkbundle (even one
 * with the same version number) is never trusted to describe what this one would write.
 */
let identity: string | undefined;
export function codeIdentity(): string {
  if (identity) return identity;
  const root = dirname(dirname(fileURLToPath(import.meta.url))); // src/ or dist/src/
  const hash = createHash("sha256").update(packageVersion());
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.(js|ts|asm)$/.test(name)) hash.update(`${relative(root, p)}\0`).update(readFileSync(p));
    }
  };
  walk(root);
  return (identity = hash.digest("hex"));
}
