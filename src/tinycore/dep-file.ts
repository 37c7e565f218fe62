// .dep files: one dependency per line, with the quirks real ones have (blank lines,
// trailing blanks, CRLF, no final newline, empty files, '.tcz' missing).

/** Dependency names without '.tcz', in file order, duplicates dropped. */
export function parseDepFile(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const name = raw.trim().replace(/\.tcz$/, "");
    if (name && !name.startsWith("#") && !out.includes(name)) out.push(name);
  }
  return out;
}
