// mkdir -p that reports the real reason: Node's recursive mkdir on a read-only file system
// says ENOENT about the deepest path; this says EROFS about the directory it could not make.
import { existsSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";

export function ensureDir(path: string): void {
  try {
    mkdirSync(path, { recursive: true });
  } catch (e) {
    // Make each missing level in turn: the first that fails throws its own error.
    const missing: string[] = [];
    for (let p = path; !existsSync(p) && dirname(p) !== p; p = dirname(p)) missing.unshift(p);
    for (const p of missing) mkdirSync(p);
    throw e;
  }
}
