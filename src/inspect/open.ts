// Opens nested containers for `ls` and `cat`: FILE, then each INNER path inside the
// previous layer, descending whenever the named file is itself a container.
import { readFileSync } from "node:fs";
import { bufferSource, fileSource } from "../formats/byte-source.js";
import { isIso9660, readIso } from "../formats/iso9660/reader.js";
import { FormatError, normalizeEntryPath, printable, readAllData, type Entry } from "../tree/entry.js";
import { readCpio } from "../formats/cpio/reader.js";
import { detectContainer } from "../formats/detect.js";
import { gunzip } from "../formats/gzip/reader.js";
import { readSquashfs } from "../formats/squashfs/reader.js";
import { readTar } from "../formats/tar/reader.js";

export interface Layer {
  /** "core.gz" or "Core.iso > boot/core.gz": where we are, for messages. */
  label: string;
  /** "gzip+cpio", "squashfs", ... */
  kind: string;
  entries: Entry[];
}

/** An expected failure of inspection: exit 1 with this one-line message. */
export class InspectError extends Error {}

const MAX_SYMLINK_HOPS = 40;

export async function openBytes(bytes: Buffer, label: string): Promise<Layer> {
  const kinds: string[] = [];
  let data = bytes;
  try {
    for (;;) {
      const kind = detectContainer(data);
      if (!kind) {
        if (kinds.length) throw new FormatError(kinds.join("+"), "decompressed data is not a known container (cpio, tar, squashfs)");
        throw new InspectError(`${label}: not a known container (expected an ISO, a cpio or gzip'd cpio initrd, a squashfs/.tcz or a tar/tar.gz)`);
      }
      kinds.push(kind);
      if (kind === "gzip") {
        data = gunzip(data);
        continue;
      }
      const entries = await readContainer(kind, data);
      return { label, kind: kinds.join("+"), entries };
    }
  } catch (e) {
    if (e instanceof FormatError) throw new InspectError(`${label} (${kinds.join("+") || "unknown"}): ${e.message.replace(/^[\w+]+: /, "")}`);
    throw e;
  }
}

async function readContainer(kind: Exclude<ReturnType<typeof detectContainer>, "gzip" | undefined>, data: Buffer): Promise<Entry[]> {
  switch (kind) {
    case "cpio": {
      const out: Entry[] = [];
      for await (const e of readCpio(data)) out.push(e);
      return out;
    }
    case "squashfs":
      return readSquashfs(data).entries;
    case "tar":
      return readTar(data);
    case "iso9660":
      return readIso(bufferSource(data)).entries;
  }
}

export async function openFile(file: string): Promise<Layer> {
  try {
    // An ISO is read in place (its files stream from it); other containers are read whole.
    const src = fileSource(file);
    if (isIso9660(src.read(0, 32774))) {
      try {
        return { label: file, kind: "iso9660", entries: readIso(src).entries };
      } catch (e) {
        if (e instanceof FormatError) throw new InspectError(`${file} (iso9660): ${e.message.replace(/^[\w+]+: /, "")}`);
        throw e;
      }
    }
    src.close();
    return await openBytes(readFileSync(file), file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code && !(e instanceof InspectError)) throw new InspectError(`${file}: cannot read (${code})`);
    throw e;
  }
}

/** Finds `inner` in a layer, following symlinks and hard links inside the container. */
export function lookup(layer: Layer, inner: string): Entry {
  const byPath = new Map(layer.entries.map((e) => [e.path, e]));
  let path: string;
  try {
    path = normalizeEntryPath(layer.kind, inner);
  } catch {
    throw new InspectError(`${layer.label}: '${printable(inner)}' must not contain '..'`);
  }
  for (let hops = 0; hops <= MAX_SYMLINK_HOPS; hops++) {
    const e = byPath.get(path) ?? (path === "" ? rootEntry() : viaParentLinks(byPath, path));
    if (!e) throw new InspectError(`${layer.label}: '${printable(inner)}' not found`);
    if (e.type === "hardlink") return { ...(byPath.get(e.linkTarget ?? "") ?? e), path: e.path };
    if (e.type !== "symlink") return e;
    path = resolveLink(e.path, e.linkTarget ?? "");
  }
  throw new InspectError(`${layer.label}: '${printable(inner)}': too many levels of symbolic links`);
}

const rootEntry = (): Entry => ({ path: "", type: "dir", mode: 0o755, uid: 0, gid: 0, mtime: 0, size: 0 });

/** Resolves symlinked parent directories: usr/lib -> usr/lib32 makes usr/lib/x findable. */
function viaParentLinks(byPath: Map<string, Entry>, path: string): Entry | undefined {
  const parts = path.split("/");
  for (let i = parts.length - 1; i > 0; i--) {
    const parent = byPath.get(parts.slice(0, i).join("/"));
    if (parent?.type === "symlink") return byPath.get(resolveLink(parent.path, parent.linkTarget ?? "") + "/" + parts.slice(i).join("/"));
  }
  return undefined;
}

/** A link target resolved inside the container: absolute from its root, relative from the link's directory; never above the root. */
export function resolveLink(linkPath: string, target: string): string {
  const base = target.startsWith("/") ? [] : linkPath.split("/").slice(0, -1);
  for (const part of target.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") base.pop();
    else base.push(part);
  }
  return base.join("/");
}

/** Entries under a directory (recursive), or the entry itself when it is not one. */
export function listUnder(layer: Layer, dir: Entry): Entry[] {
  if (dir.type !== "dir") return [dir];
  const prefix = dir.path === "" ? "" : dir.path + "/";
  return layer.entries.filter((e) => e.path.startsWith(prefix) && e.path !== dir.path);
}

/** Walks FILE and INNER paths: returns the last layer and the entry named last (if any). */
export async function descend(file: string, inner: readonly string[]): Promise<{ layer: Layer; entry?: Entry }> {
  let layer = await openFile(file);
  for (const [i, name] of inner.entries()) {
    const entry = lookup(layer, name);
    const last = i === inner.length - 1;
    if (entry.type === "file") {
      const bytes = await readAllData(entry).catch((e: unknown) => {
        throw e instanceof FormatError ? new InspectError(`${layer.label} (${layer.kind}): ${e.message.replace(/^[\w+]+: /, "")}`) : e;
      });
      if (detectContainer(bytes)) {
        layer = await openBytes(bytes, `${layer.label} > ${entry.path}`);
        continue;
      }
      if (!last) throw new InspectError(`${layer.label}: '${entry.path}' is a file, not a container (${bytes.length} bytes)`);
    } else if (!last && entry.type !== "dir") {
      throw new InspectError(`${layer.label}: '${entry.path}' is a ${entry.type}, not a container`);
    } else if (!last) {
      throw new InspectError(`${layer.label}: '${entry.path}' is a directory; only the last path may name one`);
    }
    return { layer, entry };
  }
  return { layer };
}
