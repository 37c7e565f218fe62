// Reading a bundle back: bundle.json, the overlay's entries and persist.seed's.
import { fileSource } from "../io/byte-source.js";
import { gunzipSource } from "../formats/gzip/inflate.js";
import { bundleTar } from "../formats/bundle/container.js";
import { hashSource } from "../io/hash.js";
import { validateAgainstSchema } from "../manifest/schema.js";
import { tar as codec } from "../formats/tar/codec.js";
import type { ReadLimits } from "../formats/limits.js";
import { collect, openContent, readSmallText, type Entry } from "../tree/entry.js";
import { FormatError, MkError } from "../errors.js";
import type { BundleJson } from "./bundle.js";

export interface OpenedBundle {
  json: BundleJson;
  members: Map<string, Entry>;
  overlay: Entry[];
  /** persist.seed: what a new data partition starts with (empty without one). */
  seed: Entry[];
}

export async function readBundle(path: string, limits: ReadLimits): Promise<OpenedBundle> {
  // A bundle mkbundle wrote is read in place; one gzip'd again by another tool is inflated first.
  const file = fileSource(path);
  const tar = (await bundleTar(file)) ?? (await gunzipSource(file, { label: "bundle", limits }));
  const members = new Map((await collect(codec.read(tar, limits))).map((e) => [e.path, e]));
  const jsonEntry = members.get("bundle.json");
  if (!jsonEntry) throw new FormatError("bundle", `${path} has no bundle.json`);
  const text = await readSmallText(jsonEntry);
  let json: BundleJson;
  try {
    json = JSON.parse(text) as BundleJson;
  } catch (e) {
    throw new FormatError("bundle", `${path}: bundle.json is not JSON (${(e as Error).message})`);
  }
  // schemas/bundle.schema.json (with the lock schema it embeds): what rebuild-iso relies on.
  const problems = validateAgainstSchema("bundle", json, {
    locate: () => ({ file: "bundle.json", line: 0, column: 0 }),
  });
  // Well-formed but not what a bundle says: refused before any work (its names become paths).
  if (problems.length)
    throw new MkError(
      "input",
      `${path}: bundle.json does not match schemas/bundle.schema.json: ${problems
        .slice(0, 3)
        .map((d) => `${d.path || "(top)"} ${d.message}`)
        .join("; ")}`,
    );
  /** A tar.gz member, checked against its sha256 in bundle.json, and its entries. */
  async function tarMember(name: string, what: string): Promise<Entry[]> {
    const entry = members.get(name);
    if (!entry) throw new FormatError("bundle", `${path} lacks its ${what} ${name}`);
    const source = openContent(entry);
    if ((await hashSource(source)) !== json.members[name])
      throw new MkError("verify", `${path}: ${name} does not match its sha256 in bundle.json`);
    return collect(codec.read(await gunzipSource(source, { label: what, limits }), limits));
  }
  const overlay = await tarMember(json.overlay, "overlay");
  const seed = json.seed ? await tarMember(json.seed, "seed") : [];
  return { json, members, overlay, seed };
}
