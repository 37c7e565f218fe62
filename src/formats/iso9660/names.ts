// File identifiers: the primary tree's d-character names (level 3-compatible, ';1' on
// files) and Joliet's UCS-2 names, each unique within its directory.

const D_CHARS = /[^A-Z0-9_]/g;

/** Uppercase d-characters; files keep one '.' before an extension. At most 30 characters + ';1'. */
export function isoName(name: string, isDir: boolean): string {
  const upper = name.toUpperCase();
  if (isDir) return upper.replace(D_CHARS, "_").slice(0, 31) || "_";
  const dot = upper.lastIndexOf(".");
  const base = (dot > 0 ? upper.slice(0, dot) : upper).replace(D_CHARS, "_") || "_";
  const ext =
    dot > 0
      ? upper
          .slice(dot + 1)
          .replace(D_CHARS, "_")
          .slice(0, 8)
      : "";
  return `${base.slice(0, 30 - ext.length - 1)}.${ext}`;
}

/** Joliet: at most 64 UCS-2 characters, none of * / : ; ? \\ */
export function jolietName(name: string): string {
  return [...name.replace(/[*/:;?\\]/g, "_")].slice(0, 64).join("");
}

/** Makes names unique by replacing their tail with ~N, keeping the extension. */
export function uniqueNames(names: readonly string[], maxBase: number): string[] {
  const used = new Set<string>();
  return names.map((n) => {
    let candidate = n;
    for (let i = 1; used.has(candidate); i++) {
      const dot = n.lastIndexOf(".");
      const [base, ext] = dot > 0 ? [n.slice(0, dot), n.slice(dot)] : [n, ""];
      const suffix = `~${i}`;
      candidate = base.slice(0, Math.max(1, maxBase - suffix.length - ext.length)) + suffix + ext;
    }
    used.add(candidate);
    return candidate;
  });
}
