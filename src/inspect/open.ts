// Opens nested containers for `ls` and `cat`: FILE, then each INNER path inside the
// previous layer, descending whenever the named file is itself a container. Every format
// is read through the one registry in formats/codecs.ts.
import { statSync } from "node:fs";
import { FormatError, MkError } from "../errors.js";
import { fileSource, type ByteSource } from "../io/byte-source.js";
import { toListed, type ListedEntry } from "./format-listing.js";
import { DETECT_BYTES } from "../formats/codec.js";
import { codecOf, detectContainer } from "../formats/codecs.js";
import { gunzipSource } from "../formats/gzip/inflate.js";
import type { ReadLimits } from "../formats/limits.js";
import { collect, normalizeEntryPath, openContent, printable, type Entry } from "../tree/entry.js";

export interface Layer {
  /** "core.gz" or "Core.iso > boot/core.gz": where we are, for messages. */
  label: string;
  /** "gzip+cpio", "squashfs", ... */
  kind: string;
  entries: Entry[];
}

const MAX_SYMLINK_HOPS = 40;

const lookupError = (message: string) => new MkError("lookup", message);

/** A codec's error, named by the layer it happened in: "core.gz (gzip+cpio): truncated ...". */
async function inLayer<T>(label: string, kind: () => string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    if (e instanceof FormatError) throw new MkError("format", `${label} (${kind() || "unknown"}): ${e.detail}`);
    throw e;
  }
}

async function openSource(src: ByteSource, label: string, limits: ReadLimits): Promise<Layer> {
  const kinds: string[] = [];
  return inLayer(
    label,
    () => kinds.join("+"),
    async () => {
      let current = src;
      for (;;) {
        const kind = detectContainer(current.read(0, DETECT_BYTES));
        if (!kind) {
          if (kinds.length)
            throw new MkError(
              "format",
              `${label} (${kinds.join("+")}): decompressed data is not a known container (cpio, tar, squashfs)`,
            );
          throw new MkError(
            "format",
            `${label}: not a known container (expected an ISO, a cpio or gzip'd cpio initrd, a squashfs/.tcz, a tar/tar.gz or a FAT image such as efi.img)`,
          );
        }
        kinds.push(kind);
        if (kind === "gzip") {
          current = await gunzipSource(current, { label: label.split(/[/>]/).pop()!.trim(), limits });
          continue;
        }
        const entries = await collect(codecOf(kind).read(current, limits));
        return { label, kind: kinds.join("+"), entries };
      }
    },
  );
}

async function openFile(file: string, limits: ReadLimits): Promise<Layer> {
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
  for (let hops = 0; hops <= MAX_SYMLINK_HOPS; hops++) {
    const e = byPath.get(path) ?? (path === "" ? rootEntry() : viaParentLinks(byPath, path));
    if (!e) throw lookupError(`${layer.label}: '${printable(inner)}' not found`);
    if (e.type === "hardlink") {
      const target = byPath.get(e.linkTarget ?? "");
      if (!target || target.type !== "file")
        throw new MkError(
          "format",
          `${layer.label}: '${printable(e.path)}' is a hard link to '${printable(e.linkTarget ?? "")}', which is not a file in the container`,
        );
      return { ...target, path: e.path };
    }
    if (e.type !== "symlink") return e;
    path = resolveLink(e.path, e.linkTarget ?? "");
  }
  throw lookupError(`${layer.label}: '${printable(inner)}': too many levels of symbolic links`);
}

const rootEntry = (): Entry => ({ path: "", type: "dir", mode: 0o755, uid: 0, gid: 0, mtime: 0, size: 0 });

/** Resolves symlinked parent directories: usr/lib -> usr/lib32 makes usr/lib/x findable. */
function viaParentLinks(byPath: Map<string, Entry>, path: string): Entry | undefined {
  const parts = path.split("/");
  for (let i = parts.length - 1; i > 0; i--) {
    const parent = byPath.get(parts.slice(0, i).join("/"));
    if (parent?.type === "symlink")
      return byPath.get(resolveLink(parent.path, parent.linkTarget ?? "") + "/" + parts.slice(i).join("/"));
  }
  return undefined;
}

/** A link target resolved inside the container: absolute from its root, relative from the link's directory; never above the root. */
function resolveLink(linkPath: string, target: string): string {
  const base = target.startsWith("/") ? [] : linkPath.split("/").slice(0, -1);
  for (const part of target.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") base.pop();
    else base.push(part);
  }
  return base.join("/");
}

/** Entries under a directory (recursive), or the entry itself when it is not one. */
function listUnder(layer: Layer, dir: Entry): Entry[] {
  if (dir.type !== "dir") return [dir];
  const prefix = dir.path === "" ? "" : dir.path + "/";
  return layer.entries.filter((e) => e.path.startsWith(prefix) && e.path !== dir.path);
}

/** Walks FILE and INNER paths: returns the last layer and the entry named last (if any). */
async function descend(
  file: string,
  inner: readonly string[],
  limits: ReadLimits,
): Promise<{ layer: Layer; entry?: Entry }> {
  let layer = await openFile(file, limits);
  for (const [i, name] of inner.entries()) {
    const entry = lookup(layer, name);
    const last = i === inner.length - 1;
    if (entry.type === "file") {
      const content = openContent(entry);
      const head = await inLayer(
        layer.label,
        () => layer.kind,
        async () => content.read(0, DETECT_BYTES),
      );
      if (detectContainer(head)) {
        layer = await openSource(content, `${layer.label} > ${entry.path}`, limits);
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
  return { layer };
}

/** `mkbundle ls`: what FILE (and each INNER path inside it) lists. */
export async function listContainer(
  file: string,
  inner: readonly string[],
  limits: ReadLimits,
): Promise<ListedEntry[]> {
  const { layer, entry } = await descend(file, inner, limits);
  const byPath = new Map(layer.entries.map((e) => [e.path, e]));
  return (entry ? listUnder(layer, entry) : layer.entries).map((e) => toListed(e, byPath));
}

/** `mkbundle cat`: the file the last INNER path names, and where it is (for messages). */
export async function containedFile(
  file: string,
  inner: readonly string[],
  limits: ReadLimits,
): Promise<{ entry: Entry; label: string }> {
  const { layer } = await descend(file, inner.slice(0, -1), limits);
  const entry = lookup(layer, inner[inner.length - 1]!);
  if (entry.type !== "file")
    throw new MkError("lookup", `${layer.label}: '${entry.path}' is a ${entry.type}, not a file`);
  return { entry, label: layer.label };
}
