// Temporary files for data too large for memory (a decompressed initrd): in one private
// directory per process, removed when the process exits or is interrupted.
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { onInterrupt } from "./cleanup.js";

let dir: string | undefined;
let count = 0;

/** A fresh directory in this process's private temporary directory: gone on any exit or interrupt. */
export function tempDirectory(name: string): string {
  const path = tempPath(name);
  mkdirSync(path);
  return path;
}

/** A fresh path in this process's private temporary directory. */
export function tempPath(name: string): string {
  if (!dir) {
    const created = mkdtempSync(join(tmpdir(), "mkbundle-"));
    dir = created;
    const remove = () => rmSync(created, { recursive: true, force: true });
    process.once("exit", remove);
    onInterrupt(remove);
  }
  return join(dir, `${++count}-${name.replace(/[^\w.-]+/g, "_").slice(0, 40)}`);
}
