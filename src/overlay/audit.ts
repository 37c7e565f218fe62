// The prod audit: the final image may hold no sshd and no usable password.
import { readAllData, type Entry } from "../tree/entry.js";
import type { FileTree } from "../tree/file-tree.js";
import type { OverlayInput } from "./types.js";

const SSHD = /(^|\/)sshd$/;

/** A shadow hash field that lets someone log in: empty, or anything but a lock marker. */
const usableHash = (field: string): boolean => !(field === "*" || field.startsWith("!") || field === "x");

export async function auditProd(
  input: OverlayInput,
  finalTree: FileTree,
  builtin: ReadonlyMap<string, Entry[]>,
): Promise<string[]> {
  const problems: string[] = [];
  for (const e of finalTree.values())
    if (SSHD.test(e.path) && e.type !== "dir") problems.push(`prod audit: ${e.path} is an sshd binary`);
  for (const x of input.lock.extensions.filter((e) => e.role === "builtin")) {
    for (const e of builtin.get(x.name) ?? [])
      if (SSHD.test(e.path) && e.type !== "dir")
        problems.push(`prod audit: builtin ${x.name}.tcz holds ${e.path} (required by ${x.requiredBy.join(", ")})`);
  }
  const shadow = finalTree.get("etc/shadow");
  if (shadow) {
    for (const line of (await readAllData(shadow)).toString("utf8").split("\n")) {
      const [user, hash] = line.split(":");
      if (user && hash !== undefined && usableHash(hash))
        problems.push(`prod audit: user ${user} has a usable password in /etc/shadow`);
    }
  }
  return problems;
}
