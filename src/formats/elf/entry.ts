// An Entry's ELF headers, when it is an ELF file at all: anything else (a script, data, a
// file too short or too broken for the loader to run) is null, read no further than its magic.
import { FormatError } from "../../errors.js";
import { openContent, type Entry } from "../../tree/entry.js";
import { isElf } from "./header.js";
import { readElf, type ElfInfo } from "./reader.js";

/** The smallest ELF header (32-bit). */
const ELF_HEADER = 52;

export function elfOfEntry(e: Entry): ElfInfo | null {
  if (e.type !== "file" || e.size < ELF_HEADER) return null;
  const src = openContent(e);
  try {
    return isElf(src.read(0, 4)) ? readElf(src, `/${e.path}`) : null;
  } catch (err) {
    if (err instanceof FormatError) return null; // not a program the loader would run either
    throw err;
  } finally {
    src.close();
  }
}
