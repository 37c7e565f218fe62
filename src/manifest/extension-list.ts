// Razor's builtin/mirror list files: one extension per line, as `$(cat list)` read them.
import type { Diagnostic } from "../errors.js";
import { EXTENSION_NAME, extensionName } from "./types.js";

export interface ListedExtension {
  name: string; // without .tcz
  line: number;
  column: number;
}

/**
 * Accepts what real lists contain: `#` comments (whole-line or trailing), blank lines,
 * trailing blanks, CRLF, a missing final newline, '.tcz' present or not. Several names
 * on one line are accepted too, since Razor's shell split the file on any white space.
 */
export function parseExtensionList(
  file: string,
  text: string,
): { extensions: ListedExtension[]; diagnostics: Diagnostic[] } {
  const extensions: ListedExtension[] = [];
  const diagnostics: Diagnostic[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const hash = raw.indexOf("#");
    const content = hash >= 0 ? raw.slice(0, hash) : raw;
    for (const m of content.matchAll(/\S+/g)) {
      const word = m[0];
      const at = { file, line: i + 1, column: (m.index ?? 0) + 1 };
      if (EXTENSION_NAME.test(word)) extensions.push({ name: extensionName(word), line: at.line, column: at.column });
      else
        diagnostics.push({
          severity: "error",
          ...at,
          path: "",
          message: `'${word}' is not an extension name`,
          hint: "one Tiny Core extension per line, like bash or bash.tcz; '#' starts a comment",
        });
    }
  });
  return { extensions, diagnostics };
}
