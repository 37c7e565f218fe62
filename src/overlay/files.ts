// files: (and persist.seed) entries, from a source next to the manifest, inline content, or out
// of an extension.
import { insideFileSource } from "../io/inside-file.js";
import { extensionFiles, fileInExtension } from "../tinycore/extension-files.js";
import { extensionName, type ResolvedFile } from "../manifest/types.js";
import { fileEntry, fileFrom, normalizeEntryPath, type Entry } from "../tree/entry.js";
import type { OverlayInput } from "./types.js";

/** The entries `specs` (files:, persist.seed, ...) make; problems are collected, each named by `at(index)`. */
export async function fileEntries(
  input: OverlayInput,
  problems: string[],
  specs: readonly ResolvedFile[] = input.manifest.files,
  at: (i: number) => string = (i) => `files[${i}]`,
): Promise<Entry[]> {
  const out: Entry[] = [];
  const images = new Map<string, Entry[]>();
  const epoch = input.manifest.epoch;
  for (const [i, f] of specs.entries()) {
    const [uid, gid] = f.owner.split(":").map(Number) as [number, number];
    const mode = parseInt(f.mode, 8);
    const path = f.path.replace(/^\/+/, "");
    if ("source" in f) out.push(fileFrom(path, insideFileSource(input.manifestDir, f.source), epoch, mode, uid, gid));
    else if ("content" in f) out.push(fileEntry(path, Buffer.from(f.content, "utf8"), epoch, mode, uid, gid));
    else {
      const name = extensionName(f.extract.extension);
      const pin = input.lock.extensions.find((e) => e.name === name);
      if (!pin) {
        problems.push(`${at(i)}: extension ${name} is not in the lock; run mkbundle lock --update`);
        continue;
      }
      let entries = images.get(name);
      if (!entries) {
        entries = await extensionFiles(name, input.blob(pin.sha256), input.limits);
        images.set(name, entries);
      }
      const want = normalizeEntryPath("files", f.extract.path);
      const target = fileInExtension(entries, want);
      if (target === "missing") {
        const near = entries
          .filter((e) => e.type === "file" && e.path.endsWith(`/${want.split("/").pop()}`))
          .map((e) => e.path);
        problems.push(`${at(i)}: ${name}.tcz has no file ${want}${near.length ? ` (it has ${near.join(", ")})` : ""}`);
        continue;
      }
      if (target === "dangling hard link") {
        problems.push(`${at(i)}: ${name}.tcz: ${want} is a hard link to a missing file`);
        continue;
      }
      // Streamed from the extension when the overlay is written: never held whole.
      out.push({ ...target, path, mode, uid, gid, mtime: epoch });
    }
  }
  return out;
}
