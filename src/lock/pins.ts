// What lock files under some paths pin: every sha256 they reference (what `cache gc` keeps).
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { MkError } from "../errors.js";
import { lockedDigests, readLock } from "./lock-file.js";

/** The lock files under `paths` and every digest they pin; a path that does not exist is a usage error. */
export function pinsUnder(paths: readonly string[]): { locks: string[]; keep: Set<string> } {
  const missing = paths.filter((p) => !statSync(p, { throwIfNoEntry: false }));
  if (missing.length)
    throw new MkError("usage", `${missing.join(", ")}: no such file or directory`, {
      file: "mkbundle cache gc",
      hint: "name directories or lock files whose pins to keep",
    });
  const locks = paths.flatMap((p) => findLocks(p));
  return { locks, keep: new Set(locks.flatMap((f) => lockedDigests(readLock(f)!))) };
}

function findLocks(path: string): string[] {
  const st = statSync(path);
  if (st.isFile()) return path.endsWith(".lock") ? [path] : [];
  return readdirSync(path)
    .filter((n) => !["node_modules", ".git", "tmp-build-dir", "build-files"].includes(n))
    .flatMap((n) => {
      const p = join(path, n);
      const s = statSync(p, { throwIfNoEntry: false });
      return s?.isDirectory()
        ? findLocks(p)
        : s?.isFile() && n.endsWith(".lock") && n !== "package-lock.json"
          ? [p]
          : [];
    });
}
