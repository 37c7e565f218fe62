// Razor's `-c FILE` of KEY=VALUE lines. Parsed, never evaluated: `$(...)` stays text.
import type { Diagnostic } from "../errors.js";

/** Settings mkbundle reads, from the -c file and the environment. */
export const RAZOR_SETTINGS = [
  "MK_BUNDLE_BUILTIN_LIST",
  "MK_BUNDLE_MIRROR_LIST",
  "MK_BUNDLE_TC_PASSWD",
  "MK_BUNDLE_TYPE",
  "MK_BUNDLE_TCL_MIRROR_URI",
  "MK_BUNDLE_TCL_ISO_URL",
  "MK_BUNDLE_TCL_RELEASE",
  "MK_BUNDLE_TCL_ARCH",
  "MK_BUNDLE_GEM_SERVER_URI",
] as const;

/** Razor settings that no longer mean anything (downloads are always reused safely now, etc.). */
const OBSOLETE = [
  "MK_BUNDLE_RE_USE_PREV_DL",
  "MK_BUNDLE_RUBY_GEMS_URL",
  "MK_BUNDLE_MCOLLECTIVE_URL",
  "MK_BUNDLE_OPEN_VM_TOOLS_URL",
];

export interface ConfigValue {
  value: string;
  line: number;
}

export function parseRazorConfig(
  file: string,
  text: string,
): { values: Map<string, ConfigValue>; diagnostics: Diagnostic[] } {
  const values = new Map<string, ConfigValue>();
  const diagnostics: Diagnostic[] = [];
  const report = (severity: "error" | "warning", line: number, message: string, hint?: string) =>
    diagnostics.push({ severity, file, line, column: 1, path: "", message, ...(hint ? { hint } : {}) });
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1;
    const trimmed = raw.trim();
    if (!trimmed || trimmed.startsWith("#")) return;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(trimmed);
    if (!m)
      return report(
        "error",
        line,
        /PASSWD|PASSWORD/i.test(trimmed)
          ? "this line is not KEY=VALUE (not shown: it may hold a password)"
          : `'${trimmed}' is not a KEY=VALUE line`,
        "write e.g. MK_BUNDLE_TYPE=prod",
      );
    const key = m[1]!;
    const value = unquote(m[2]!.trim());
    if ((RAZOR_SETTINGS as readonly string[]).includes(key)) {
      if (/\$\(|`|\$\{?[A-Za-z_]/.test(value))
        report(
          "warning",
          line,
          // The password's value is never repeated, not even in a warning about it.
          key === "MK_BUNDLE_TC_PASSWD"
            ? `${key}: the value is taken literally ($ and backquotes included)`
            : `${key}: '${value}' is taken literally`,
          "mkbundle never evaluates shell in config files",
        );
      values.set(key, { value, line });
    } else if (OBSOLETE.includes(key)) report("warning", line, `${key} is not used by mkbundle and is ignored`);
    else report("warning", line, `unknown setting ${key} is ignored`, `known: ${RAZOR_SETTINGS.join(", ")}`);
  });
  return { values, diagnostics };
}

/**
 * A value as the shell would read it: quoted ('…' or "…", then an optional # comment), or
 * bare up to a # comment that follows a blank (`MK_BUNDLE_TYPE=debug  # for CI`).
 */
function unquote(raw: string): string {
  const q = raw[0];
  if (q === '"' || q === "'") {
    const end = raw.indexOf(q, 1);
    if (end > 0 && /^\s*(#.*)?$/.test(raw.slice(end + 1))) return raw.slice(1, end);
  }
  return raw.replace(/\s+#.*$/, "");
}
