// `mkbundle size`: where an ISO's bytes go. Each file of the ISO is a component (the kernel,
// each initrd, each extension, the EFI System Partition, the rest together), with its bytes
// on the ISO, its bytes unpacked (an initrd decompressed, an extension's files) and what it
// costs in RAM at run time (an initrd unpacks into RAM; an extension on the CD is loop-mounted
// from it and costs none; one inside an initrd is already counted in it). What the files do
// not account for is the ISO's own structure. Inside each initrd and extension, its largest
// directories, level by level. Every container is read through the codecs, within limits.
import { FormatError, MkError } from "../errors.js";
import { DETECT_BYTES } from "../formats/codec.js";
import { codecOf, detectContainer } from "../formats/codecs.js";
import { readIso } from "../formats/iso9660/reader.js";
import { gunzipSource } from "../formats/gzip/inflate.js";
import { sharedBudget, type ReadLimits } from "../formats/limits.js";
import { fileSource, type ByteSource } from "../io/byte-source.js";
import { kernelFromBzImage } from "../tinycore/kernel-release.js";
import { parse } from "yaml";
import { openContent, readSmallText, type Entry } from "../tree/entry.js";

export type ComponentKind = "kernel" | "initrd" | "extension" | "esp" | "other";

export interface SizeNode {
  /** A path inside the component ("" for its root), or "(N more)" for the smaller rest. */
  path: string;
  bytes: number;
  children?: SizeNode[];
}

export interface Component {
  kind: ComponentKind;
  /** Its path on the ISO, or "INITRD > path" for an extension inside an initrd; "other files" for the rest. */
  path: string;
  /** Bytes on the ISO (or, inside an initrd, in it). */
  bytes: number;
  /** Of those, bytes an earlier component of the list already holds (a kernel inside efi.img). */
  shared: number;
  /** Bytes of its files unpacked (an initrd decompressed; an extension's files; else bytes). */
  unpacked: number;
  /** Bytes of RAM it takes at run time. */
  ram: number;
  /** Files it holds (for other files: how many files). */
  files: number;
  tree?: SizeNode;
}

export interface SizeReport {
  file: string;
  bytes: number;
  /** The ISO's own structure: its size less what its files hold (each byte counted once). */
  overhead: number;
  components: Component[];
  /** What prune: left out, as the ISO's iso-metadata.yaml records it. */
  pruned?: { rule: string; files: number; bytes: number }[];
}

export interface SizeOptions {
  limits: ReadLimits;
  /** Children kept at each level of a tree, the rest summed. */
  top: number;
  /** Levels of directories under each component. */
  depth: number;
}

const isKernel = (path: string, head: Buffer) =>
  /(^|\/)(vmlinuz[^/]*|bzImage)$/.test(path) || kernelFromBzImage(head) !== undefined;

export async function sizeOfImage(file: string, o: SizeOptions): Promise<SizeReport> {
  const limits = sharedBudget(o.limits);
  const src = fileSource(file);
  try {
    const head = src.read(0, DETECT_BYTES);
    if (detectContainer(head) !== "iso9660")
      throw new MkError("usage", "not an ISO or a bundle: mkbundle size reads images, bundles and manifests (.yaml)", {
        file,
      });
    const iso = await readIso(src, limits);
    const components: Component[] = [];
    const other: Component = { kind: "other", path: "other files", bytes: 0, shared: 0, unpacked: 0, ram: 0, files: 0 };
    const otherPaths: string[] = [];
    const last: Component[] = []; // the ESP: after the kernel and initrds it holds
    for (const e of iso.entries) {
      if (e.type !== "file") continue;
      const content = openContent(e);
      const head = content.read(0, Math.min(DETECT_BYTES, content.size));
      const kind = detectContainer(head);
      const archive =
        kind === "gzip" ? "initrd" : kind === "squashfs" ? "extension" : kind === "fat" ? "esp" : undefined;
      const found = archive && (await archiveComponent(archive, e.path, content, limits, o));
      if (found) (archive === "esp" ? last : components).push(found.component, ...found.nested);
      else if (isKernel(e.path, head))
        components.push({
          kind: "kernel",
          path: e.path,
          bytes: e.size,
          shared: 0,
          unpacked: e.size,
          ram: e.size,
          files: 1,
        });
      else {
        other.bytes += e.size;
        other.unpacked += e.size;
        other.files++;
        otherPaths.push(e.path);
      }
    }
    const pruned = await prunedOf(iso.entries.find((e) => e.path === "iso-metadata.yaml"));
    components.push(...last);
    if (other.files) components.push(other);
    // Each byte of the image counted once: what a component shares with an earlier one is said.
    const claim = claimer();
    for (const c of components.filter((x) => !x.path.includes(" > "))) {
      const paths = c === other ? otherPaths : [c.path];
      c.shared = c.bytes - paths.reduce((n, p) => n + claim(iso.extents.get(p) ?? []), 0);
    }
    const filesBytes = components.filter((x) => !x.path.includes(" > ")).reduce((n, c) => n + c.bytes - c.shared, 0);
    return { file, bytes: src.size, overhead: src.size - filesBytes, components, ...(pruned ? { pruned } : {}) };
  } finally {
    src.close();
  }
}

/** An initrd (gzip'd cpio), an extension (squashfs) or an ESP (FAT): its sizes and tree; extensions inside an initrd too. */
export async function archiveComponent(
  kind: ComponentKind,
  path: string,
  content: ByteSource,
  limits: ReadLimits,
  o: SizeOptions,
): Promise<{ component: Component; nested: Component[] } | undefined> {
  let inner = content;
  try {
    if (kind === "initrd") {
      inner = await gunzipSource(content, { label: path.split("/").pop()!, limits });
      if (detectContainer(inner.read(0, Math.min(DETECT_BYTES, inner.size))) !== "cpio") return undefined;
    }
    const codec = codecOf(kind === "initrd" ? "cpio" : kind === "extension" ? "squashfs" : "fat");
    const files: Entry[] = [];
    const nested: Component[] = [];
    for await (const e of codec.read(inner, limits)) {
      if (e.type !== "file") continue;
      files.push(e);
      if (kind === "initrd" && e.path.endsWith(".tcz")) {
        const x = await archiveComponent("extension", e.path, openContent(e), limits, o);
        // Loop-mounted from the initrd: its bytes are already in the initrd's RAM.
        if (x) nested.push({ ...x.component, path: `${path} > ${e.path}`, ram: 0 });
      }
    }
    const unpacked = kind === "initrd" ? inner.size : files.reduce((n, f) => n + f.size, 0);
    return {
      component: {
        kind,
        path,
        bytes: content.size,
        shared: 0,
        unpacked,
        ram: kind === "initrd" ? inner.size : 0,
        files: files.length,
        tree: sizeTree(files, o),
      },
      nested,
    };
  } catch (e) {
    if (e instanceof FormatError) throw new MkError("format", `${path} (${e.format}): ${e.detail}`);
    throw e;
  }
}

/** The pruned: list of mkbundle's iso-metadata.yaml, when it has a well-formed one. */
async function prunedOf(meta: Entry | undefined): Promise<SizeReport["pruned"]> {
  if (meta?.type !== "file" || meta.size > 1024 * 1024) return undefined;
  let doc: unknown;
  try {
    doc = parse(await readSmallText(meta));
  } catch {
    return undefined; // not ours, or not YAML: nothing to say
  }
  const list = (doc as { pruned?: unknown } | null)?.pruned;
  if (!Array.isArray(list)) return undefined;
  const ok = (list as unknown[]).filter((x): x is { rule: string; files: number; bytes: number } => {
    const o = x as Record<string, unknown> | null;
    return typeof o?.["rule"] === "string" && Number.isSafeInteger(o["files"]) && Number.isSafeInteger(o["bytes"]);
  });
  return ok.length ? ok.map(({ rule, files, bytes }) => ({ rule, files, bytes })) : undefined;
}

/** Byte ranges of the image counted so far; the function says how many of a file's are new. */
function claimer(): (extents: readonly { offset: number; length: number }[]) => number {
  let ranges: [number, number][] = []; // disjoint
  return (extents) => {
    let fresh = 0;
    for (const x of extents) {
      let [start, end] = [x.offset, x.offset + x.length];
      fresh += end - start;
      const overlapping = ranges.filter(([a, b]) => a < end && start < b);
      for (const [a, b] of overlapping) fresh -= Math.min(b, end) - Math.max(a, start);
      for (const [a, b] of overlapping) [start, end] = [Math.min(start, a), Math.max(end, b)];
      ranges = [...ranges.filter((r) => !overlapping.includes(r)), [start, end]];
    }
    return fresh;
  };
}

/** Directory sizes (the bytes of the files under each), the largest `top` at each level, `depth` levels. */
function sizeTree(files: readonly Pick<Entry, "path" | "size">[], o: Pick<SizeOptions, "top" | "depth">): SizeNode {
  interface Dir {
    bytes: number;
    dirs: Map<string, Dir>;
  }
  const root: Dir = { bytes: 0, dirs: new Map() };
  for (const f of files) {
    const parts = f.path.split("/");
    let d = root;
    d.bytes += f.size;
    for (let i = 1; i <= parts.length; i++) {
      const key = parts.slice(0, i).join("/");
      let next = d.dirs.get(key);
      if (!next) d.dirs.set(key, (next = { bytes: 0, dirs: new Map() }));
      next.bytes += f.size;
      d = next;
    }
  }
  const node = (path: string, d: Dir, level: number): SizeNode => {
    if (level >= o.depth || !d.dirs.size) return { path, bytes: d.bytes };
    const sorted = [...d.dirs.entries()].sort(([a, x], [b, y]) => y.bytes - x.bytes || (a < b ? -1 : 1));
    const kept = sorted.slice(0, o.top).map(([p, c]) => node(p, c, level + 1));
    const rest = sorted.slice(o.top);
    if (rest.length) kept.push({ path: `(${rest.length} more)`, bytes: rest.reduce((n, [, c]) => n + c.bytes, 0) });
    return { path, bytes: d.bytes, children: kept };
  };
  return node("", root, 0);
}

/** The report with each tree cut to `top` children a level and `depth` levels (the rest summed as before). */
export function trimReport(r: SizeReport, o: Pick<SizeOptions, "top" | "depth">): SizeReport {
  const trim = (n: SizeNode, level: number): SizeNode => {
    if (!n.children?.length || level >= o.depth) return { path: n.path, bytes: n.bytes };
    const kept = n.children.filter((c) => !c.path.startsWith("("));
    const rest = [...kept.slice(o.top), ...n.children.filter((c) => c.path.startsWith("("))];
    // A "(N more)" node stands for N directories; any other node for one.
    const more = rest.reduce((k, c) => k + Number(/^\((\d+) more\)$/.exec(c.path)?.[1] ?? 1), 0);
    const children = kept.slice(0, o.top).map((c) => trim(c, level + 1));
    if (rest.length) children.push({ path: `(${more} more)`, bytes: rest.reduce((k, c) => k + c.bytes, 0) });
    return { path: n.path, bytes: n.bytes, children };
  };
  return { ...r, components: r.components.map((c) => (c.tree ? { ...c, tree: trim(c.tree, 0) } : c)) };
}

/** The report as text: the components, then each one's largest directories. */
export function renderSize(r: SizeReport, human: (n: number) => string): string {
  const cols = (kind: string, c: { bytes: number; unpacked?: number; ram?: number }, path: string, files = "") =>
    [
      kind.padEnd(9),
      human(c.bytes).padStart(10),
      (c.unpacked === undefined ? "" : human(c.unpacked)).padStart(10),
      (c.ram === undefined ? "" : human(c.ram)).padStart(10),
      files.padStart(7),
      `  ${path}`,
    ].join(" ");
  const ram = r.components.reduce((n, c) => n + c.ram, 0);
  const lines = [
    `${r.file}: ${r.bytes} bytes (${human(r.bytes)}), ${human(ram)} of RAM for what it unpacks`,
    `${"component".padEnd(9)} ${"on ISO".padStart(10)} ${"unpacked".padStart(10)} ${"RAM".padStart(10)} ${"files".padStart(7)}  path`,
    ...r.components.map((c) =>
      cols(
        c.kind,
        { ...c, bytes: c.bytes - c.shared },
        `${c.path}${c.shared ? ` (and ${human(c.shared)} counted above: it holds them)` : ""}`,
        String(c.files),
      ),
    ),
    cols("ISO", { bytes: r.overhead }, "(its own structure: descriptors, directories, padding)"),
  ];
  if (r.pruned?.length) {
    const total = r.pruned.reduce((n, x) => n + x.bytes, 0);
    lines.push("", `left out by the manifest's prune: (${human(total)} of files, unpacked):`);
    for (const x of r.pruned) lines.push(`${human(x.bytes).padStart(10)}  ${x.rule} (${x.files} entries)`);
  }
  for (const c of r.components.filter((x) => x.tree?.children?.length)) {
    lines.push("", `largest in ${c.path} (unpacked):`);
    const walk = (n: SizeNode, indent: string) => {
      for (const ch of n.children ?? []) {
        lines.push(`${indent}${human(ch.bytes).padStart(10)}  ${ch.path}`);
        walk(ch, `${indent}  `);
      }
    };
    walk(c.tree!, "  ");
  }
  return lines.join("\n");
}
