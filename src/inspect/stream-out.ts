// Writes a file's bytes to a stream as they are read: memory follows the read size, never
// the file's size (a sparse 2 GiB file in a .tcz costs a block at a time).
import { FormatError, MkError } from "../errors.js";
import { contentChunks, type Entry } from "../tree/entry.js";
import { drained } from "../io/drained.js";

export async function writeEntryData(e: Entry, out: NodeJS.WritableStream, label: string): Promise<void> {
  try {
    for await (const c of contentChunks(e)) {
      if (!out.write(c)) await drained(out);
      if ((out as { destroyed?: boolean }).destroyed) return; // the reader went away (| head)
    }
  } catch (err) {
    if (err instanceof FormatError) throw new MkError("format", `${label}: ${err.detail}`);
    throw err;
  }
}
