// files: entries, from a source next to the manifest, inline content, or out of an extension.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { readSquashfs } from "../formats/squashfs/reader.js";
import { extensionName } from "../manifest/types.js";
import { collect, normalizeEntryPath, readAllData, type Entry } from "../tree/entry.js";
import { file, type OverlayInput } from "./types.js";

export async function fileEntries(input: OverlayInput, problems: string[]): Promise<Entry[]> {
  const out: Entry[] = [];
  const images = new Map<string, Entry[]>();
  for (const [i, f] of input.manifest.files.entries()) {
    const [uid, gid] = f.owner.split(":").map(Number) as [number, number];
    const mode = parseInt(f.mode, 8);
    const path = f.path.replace(/^\/+/, "");
    let data: Buffer | undefined;
    if ("source" in f) data = readFileSync(resolve(input.manifestDir, f.source));
    else if ("content" in f) data = Buffer.from(f.content, "utf8");
    else {
      const name = extensionName(f.extract.extension);
      const pin = input.lock.extensions.find((e) => e.name === name);
      if (!pin) {
        problems.push(`files[${i}]: extension ${name} is not in the lock; run mkbundle lock --update`);
        continue;
      }
      let entries = images.get(name);
      if (!entries) {
        entries = await collect(readSquashfs(input.blob(pin.sha256)));
        images.set(name, entries);
      }
      const want = normalizeEntryPath("files", f.extract.path);
      const found = entries.find((e) => e.path === want);
      if (!found || (found.type !== "file" && found.type !== "hardlink")) {
        const near = entries
          .filter((e) => e.type === "file" && e.path.endsWith(`/${want.split("/").pop()}`))
          .map((e) => e.path);
        problems.push(
          `files[${i}]: ${name}.tcz has no file ${want}${near.length ? ` (it has ${near.join(", ")})` : ""}`,
        );
        continue;
      }
      const target = found.type === "hardlink" ? entries.find((e) => e.path === found.linkTarget)! : found;
      data = await readAllData(target);
    }
    out.push(file(path, data, input.manifest.epoch, mode, uid, gid));
  }
  return out;
}
