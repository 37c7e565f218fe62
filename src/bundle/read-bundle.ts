// Reading a bundle back: bundle.json, and the overlay's entries.
import { readFileSync } from "node:fs";
import { gunzip } from "../formats/gzip/reader.js";
import { readTar } from "../formats/tar/reader.js";
import { FormatError, readAllData, type Entry } from "../tree/entry.js";
import type { BundleJson } from "./bundle.js";

export interface OpenedBundle {
  json: BundleJson;
  members: Map<string, Entry>;
  overlay: Entry[];
}

export async function readBundle(path: string): Promise<OpenedBundle> {
  const members = new Map((await readTar(gunzip(readFileSync(path)))).map((e) => [e.path, e]));
  const jsonEntry = members.get("bundle.json");
  if (!jsonEntry) throw new FormatError("bundle", `${path} has no bundle.json`);
  const json = JSON.parse((await readAllData(jsonEntry)).toString("utf8")) as BundleJson;
  const overlayEntry = members.get(json.overlay);
  if (!overlayEntry) throw new FormatError("bundle", `${path} lacks its overlay ${json.overlay}`);
  const overlay = await readTar(gunzip(await readAllData(overlayEntry)));
  return { json, members, overlay };
}
