// SHA256SUMS in --out: a line per output file, kept for every build that writes there.
import { existsSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { withFileLock } from "../io/file-lock.js";
import { writeIfChanged } from "../io/write-atomic.js";
import { SUMS_FILE } from "./names.js";

/**
 * Our files' lines replaced, other builds' kept, sorted; read and written under the lock, so
 * builds sharing --out keep each other's lines. Rewritten only when a line changes.
 */
export async function updateSums(
  out: string,
  files: readonly { path: string; sha256: string }[],
  /** Files removed from --out (relative to it): their lines go. */
  removed: readonly string[] = [],
): Promise<void> {
  const path = join(out, SUMS_FILE);
  await withFileLock(path, async () => {
    const lines = new Map<string, string>();
    if (existsSync(path)) {
      for (const l of readFileSync(path, "utf8").split("\n")) {
        const m = /^([0-9a-f]{64}) {2}(.+)$/.exec(l);
        if (m) lines.set(m[2]!, m[1]!);
      }
    }
    for (const f of files) lines.set(relative(out, f.path), f.sha256);
    for (const r of removed) lines.delete(r);
    const text = [...lines]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([p, s]) => `${s}  ${p}\n`)
      .join("");
    await writeIfChanged(path, [Buffer.from(text)]);
  });
}
