// Opens nested containers for `ls` and `cat`: FILE, then each INNER path inside the
// previous layer, descending whenever the named file is itself a container. Every format
// is read through the one registry in formats/codecs.ts.
import { statSync } from "node:fs";
import { FormatError, MkError } from "../errors.js";
import { fileSource, type ByteSource } from "../io/byte-source.js";
import { toListed, type ListedEntry } from "./format-listing.js";
import { DETECT_BYTES } from "../formats/codec.js";
import { codecOf, detectContainer } from "../formats/codecs.js";
import { bundleTar, isBundle } from "../formats/bundle/container.js";
import { gunzipSource } from "../formats/gzip/inflate.js";
import { sharedBudget, type ReadLimits } from "../formats/limits.js";
import { collect, normalizeEntryPath, openContent, printable, type Entry } from "../tree/entry.js";
import { followLinks } from "../tree/links.js";

export interface Layer {
  /** "core.gz" or "Core.iso > boot/core.gz": where we are, for messages. */
  label: string;
  /** "gzip+cpio", "squashfs", ... */
  kind: string;
  entries: Entry[];
}

/** A layer opened but not yet read: its entries come as the codec reads them (its errors are not yet named by layer). */
interface OpenLayer {
  label: string;
  kind: string;
  entries: AsyncGenerator<Entry>;
}

const lookupError = (message: string) => new MkError("lookup", message);

/** A codec's error, named by the layer it happened in: "core.gz (gzip+cpio): truncated ...". */
const inLayerError = (e: unknown, label: string, kind: string): unknown =>
  e instanceof FormatError ? new MkError("format", `${label} (${kind || "unknown"}): ${e.detail}`) : e;

async function openSource(src: ByteSource, label: string, limits: ReadLimits): Promise<OpenLayer> {
  const kinds: string[] = [];
  try {
    let current = src;
    for (;;) {
      const head = current.read(0, DETECT_BYTES);
      const kind = isBundle(head) ? "bundle" : detectContainer(head);
      if (!kind) {
        if (kinds.length)
          throw new MkError(
            "format",
            `${label} (${kinds.join("+")}): decompressed data is not a known container (cpio, tar, squashfs)`,
          );
        throw new MkError(
          "format",
          `${label}: not a known container (expected an ISO, a cpio or gzip'd cpio initrd, a squashfs/.tcz, a tar/tar.gz, a bundle or a FAT image such as efi.img)`,
        );
      }
      kinds.push(kind);
      // A bundle is read as rebuild-iso reads it (every member checked), never as plain gzip.
      if (kind === "bundle") current = (await bundleTar(current))!;
      else if (kind === "gzip")
        current = await gunzipSource(current, { label: label.split(/[/>]/).pop()!.trim(), limits });
      else {
        const joined = kinds.join("+");
        return { label, kind: joined, entries: codecOf(kind).read(current, limits) };
      }
    }
  } catch (e) {
    throw inLayerError(e, label, kinds.join("+"));
  }
}

/** Every entry of a layer, read now: for looking paths up in it. */
async function readLayer(open: OpenLayer): Promise<Layer> {
  try {
    return { ...open, entries: await collect(open.entries) };
  } catch (e) {
    throw inLayerError(e, open.label, open.kind);
  }
}

async function openFile(file: string, limits: ReadLimits): Promise<OpenLayer> {
  let src: ByteSource;
  try {
    const st = statSync(file);
    if (st.isDirectory()) throw Object.assign(new Error("a directory"), { code: "EISDIR" });
    // A device or a FIFO never ends (or blocks): only regular files are containers.
    if (!st.isFile()) throw new MkError("usage", "is not a regular file (a device, a FIFO or a socket)", { file });
    src = fileSource(file);
  } catch (e) {
    if (e instanceof MkError) throw e;
    throw new MkError("usage", `cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)})`, { file });
  }
  // The file stays open: an ISO's (or tar's) file data streams from it when read.
  return openSource(src, file, limits);
}

/** Finds `inner` in a layer, following symlinks and hard links inside the container. */
export function lookup(layer: Layer, inner: string): Entry {
  const byPath = new Map(layer.entries.map((e) => [e.path, e]));
  let path: string;
  try {
    path = normalizeEntryPath(layer.kind, inner);
  } catch {
    throw lookupError(`${layer.label}: '${printable(inner)}' must not contain '..'`);
  }
  const r = followLinks((p) => byPath.get(p), path);
  if ("found" in r) return r.found;
  if ("missing" in r) throw lookupError(`${layer.label}: '${printable(inner)}' not found`);
  if ("hardLinkTo" in r)
    throw new MkError(
      "format",
      `${layer.label}: '${printable(inner)}' is a hard link to '${printable(r.hardLinkTo)}', which is not a file in the container`,
    );
  throw lookupError(`${layer.label}: '${printable(inner)}': too many levels of symbolic links`);
}

/** Entries under a directory (recursive), or the entry itself when it is not one. */
function listUnder(layer: Layer, dir: Entry): Entry[] {
  if (dir.type !== "dir") return [dir];
  const prefix = dir.path === "" ? "" : dir.path + "/";
  return layer.entries.filter((e) => e.path.startsWith(prefix) && e.path !== dir.path);
}

/**
 * Walks FILE and INNER paths: the layer read whole and the entry named last, or, when the
 * last path names a container (or there is none), that container opened but not yet read.
 */
async function descend(
  file: string,
  inner: readonly string[],
  limits: ReadLimits,
): Promise<{ layer: Layer; entry: Entry } | { open: OpenLayer }> {
  // One budget for the whole walk: nested layers spend from it together.
  limits = sharedBudget(limits);
  let open = await openFile(file, limits);
  for (const [i, name] of inner.entries()) {
    const layer = await readLayer(open);
    const entry = lookup(layer, name);
    const last = i === inner.length - 1;
    if (entry.type === "file") {
      const content = openContent(entry);
      let head: Buffer;
      try {
        head = content.read(0, DETECT_BYTES);
      } catch (e) {
        throw inLayerError(e, layer.label, layer.kind);
      }
      if (detectContainer(head) || isBundle(head)) {
        open = await openSource(content, `${layer.label} > ${entry.path}`, limits);
        continue;
      }
      if (!last)
        throw lookupError(`${layer.label}: '${entry.path}' is a file, not a container (${content.size} bytes)`);
    } else if (!last && entry.type !== "dir") {
      throw lookupError(`${layer.label}: '${entry.path}' is a ${entry.type}, not a container`);
    } else if (!last) {
      throw lookupError(`${layer.label}: '${entry.path}' is a directory; only the last path may name one`);
    }
    return { layer, entry };
  }
  return { open };
}

/**
 * `mkbundle ls`: what FILE (and each INNER path inside it) lists, handed to `each` as the
 * readers produce it: a whole container is listed as it is read, never held. A hard link
 * shows its file's size, so the sizes of the files read so far are kept (only those with
 * data: the rest are 0).
 */
export async function listContainer(
  file: string,
  inner: readonly string[],
  limits: ReadLimits,
  each: (l: ListedEntry) => void | Promise<void>,
): Promise<void> {
  const found = await descend(file, inner, limits);
  if ("entry" in found) {
    const { layer, entry } = found;
    const byPath = new Map(layer.entries.map((e) => [e.path, e]));
    for (const e of listUnder(layer, entry)) await each(toListed(e, byPath));
    return;
  }
  const { label, kind, entries } = found.open;
  const sizes = new Map<string, number>();
  try {
    for await (const e of entries) {
      if (e.type === "file" && e.size > 0) sizes.set(e.path, e.size);
      const waiting = each(toListed(e, sizes));
      if (waiting) await waiting;
    }
  } catch (e) {
    throw inLayerError(e, label, kind);
  }
}

/** `mkbundle cat`: the file the last INNER path names, and where it is (for messages). */
export async function containedFile(
  file: string,
  inner: readonly string[],
  limits: ReadLimits,
): Promise<{ entry: Entry; label: string }> {
  const found = await descend(file, inner.slice(0, -1), limits);
  const layer = "layer" in found ? found.layer : await readLayer(found.open);
  const entry = lookup(layer, inner[inner.length - 1]!);
  if (entry.type !== "file")
    throw new MkError("lookup", `${layer.label}: '${entry.path}' is a ${entry.type}, not a file`);
  return { entry, label: layer.label };
}
