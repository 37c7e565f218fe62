// --append-initrd's overlay archive, in layers that an iteration can reuse. A large overlay
// (32 MiB of data or more) is cut into groups: after one path in 64 (by its hash) and after
// any file of 1 MiB or more, so a cut depends only on the entry it follows; each
// group is its own newc archive, gzip'd, and the initrd is their concatenation, which the
// kernel unpacks archive after archive. A group's compressed bytes are kept in a cache under
// a key made of everything that goes into them, so when one file changes, one group is
// compressed again and the rest are copied. The cut and the bytes depend only on the entries:
// with or without the cache, the same overlay gives the same initrd.
import { createHash } from "node:crypto";
import { readdirSync, rmSync, statSync, utimesSync } from "node:fs";
import { join } from "node:path";
import { borrowedPieces, fileSource } from "../io/byte-source.js";
import { cpio } from "../formats/cpio/codec.js";
import { gzipStream } from "../formats/gzip/writer.js";
import { hashFile } from "../io/hash.js";
import { contentChunks, type Entry } from "../tree/entry.js";
import { reproducible } from "../tree/reproducible.js";
import { ensureDir } from "../io/ensure-dir.js";
import { codeIdentity } from "../io/package-version.js";
import { tempPath } from "../io/temp.js";
import { writeContentAddressed, writeNewFile } from "../io/write-atomic.js";
import type { Initrd } from "./initrd.js";

/** Below this much file data an overlay stays one archive (what GNU cpio reads whole). */
const LAYERED_FROM = 32 * 1024 * 1024;
/** One path in this many ends a group: about 64 entries each. */
const CUT_EVERY = 64;
/** A file this large ends its group: a changed large file recompresses little besides itself. */
const CUT_AFTER_BYTES = 1024 * 1024;
/** The cache keeps the most recently used layers up to this size. */
const CACHE_BYTES = 1024 * 1024 * 1024;

const dataBytes = (entries: readonly Entry[]) => entries.reduce((n, e) => n + (e.type === "file" ? e.size : 0), 0);

/** Groups of consecutive entries, cut after large files and paths whose hash says so; a hard link stays with its file. */
export function layerGroups(sorted: readonly Entry[]): Entry[][] {
  const groupOf = new Map<string, number>();
  const cuts: number[] = []; // cuts[k] ends group k
  for (const [i, e] of sorted.entries()) {
    groupOf.set(e.path, cuts.length);
    const big = e.type === "file" && e.size >= CUT_AFTER_BYTES;
    if (big || createHash("sha256").update(e.path).digest().readUInt32LE(0) % CUT_EVERY === 0) cuts.push(i + 1);
  }
  // A hard link and its target must be in one archive: drop the cuts between their groups.
  const dropped = new Set<number>();
  for (const e of sorted) {
    if (e.type !== "hardlink") continue;
    const here = groupOf.get(e.path)!;
    const there = groupOf.get(e.linkTarget ?? "") ?? here;
    for (let k = Math.min(here, there); k < Math.max(here, there); k++) dropped.add(k);
  }
  const out: Entry[][] = [];
  let from = 0;
  for (const to of [...cuts.filter((_, k) => !dropped.has(k)), sorted.length]) {
    if (to > from) out.push(sorted.slice(from, to));
    from = to;
  }
  return out;
}

/** Everything that decides a layer's bytes: our code, each entry's metadata and its data's digest. */
async function layerKey(group: readonly Entry[], scratch: Buffer): Promise<string> {
  const h = createHash("sha256").update(codeIdentity());
  for (const e of group) {
    const { content: _content, ...meta } = e;
    h.update(JSON.stringify(meta));
    if (e.type === "file") h.update(await dataDigest(e, scratch));
  }
  return h.digest("hex");
}

async function dataDigest(e: Entry, scratch: Buffer): Promise<string> {
  const h = createHash("sha256");
  for await (const c of contentChunks(e, scratch)) h.update(c);
  return h.digest("hex");
}

const compress = (group: readonly Entry[], epoch: number, threads: number) =>
  gzipStream(cpio.write(group, { epoch, reuseBuffer: true }).stream(), { threads, byContent: true });

/** A cached layer `<key>.<sha256>.gz` whose bytes still have that digest. */
async function cachedLayer(cache: string, key: string, names: readonly string[]): Promise<string | undefined> {
  const name = names.find((n) => n.startsWith(`${key}.`) && n.endsWith(".gz"));
  if (!name) return undefined;
  const path = join(cache, name);
  if ((await hashFile(path)).sha256 === name.slice(key.length + 1, -3)) return path;
  rmSync(path, { force: true }); // damaged: made again
  return undefined;
}

/** A file's bytes through `scratch` (borrowed: the writer is done with each piece before the next). */
function* fileChunks(path: string, scratch: Buffer): Generator<Buffer> {
  const src = fileSource(path);
  try {
    yield* borrowedPieces(src, scratch);
  } finally {
    src.close();
  }
}

/**
 * The overlay archive for --append-initrd: one archive when small, else the concatenated
 * layers, each taken from `cache` when it has them. Returns the initrd and how many layers
 * were reused.
 */
export async function layeredArchive(
  entries: readonly Entry[],
  epoch: number,
  opts: { threads: number; cache?: string },
): Promise<Initrd & { layers: number; reused: number }> {
  const sorted = reproducible(entries, { epoch });
  const groups = dataBytes(sorted) >= LAYERED_FROM ? layerGroups(sorted) : [sorted];
  const path = tempPath("overlay.gz");
  if (groups.length === 1) {
    const written = await writeNewFile(path, compress(sorted, epoch, opts.threads));
    return { source: fileSource(path), ...written, layers: 1, reused: 0 };
  }
  // Without a cache, layers are made in the temporary directory: the same bytes either way.
  const cache = opts.cache ?? tempPath("layers");
  ensureDir(cache);
  const names = readdirSync(cache);
  let reused = 0;
  const layerFiles: string[] = [];
  // One buffer for every read of file data: hashing each file, then copying the layers.
  const scratch = Buffer.allocUnsafe(1 << 20);
  for (const g of groups) {
    const key = await layerKey(g, scratch);
    let file = await cachedLayer(cache, key, names);
    if (file) reused++;
    else
      file = (await writeContentAddressed(cache, (sha) => `${key}.${sha}.gz`, compress(g, epoch, opts.threads))).path;
    const now = new Date();
    utimesSync(file, now, now); // recently used: kept by the pruning below
    layerFiles.push(file);
  }
  const written = await writeNewFile(
    path,
    (async function* () {
      for (const f of layerFiles) yield* fileChunks(f, scratch);
    })(),
  );
  pruneCache(cache, new Set(layerFiles));
  return { source: fileSource(path), ...written, layers: groups.length, reused };
}

/** Oldest layers go once the cache passes its size; the ones just used always stay. */
function pruneCache(cache: string, inUse: ReadonlySet<string>): void {
  const files = readdirSync(cache)
    .filter((n) => n.endsWith(".gz"))
    .map((n) => {
      const path = join(cache, n);
      const st = statSync(path);
      return { path, size: st.size, mtime: st.mtimeMs };
    })
    .sort((a, b) => b.mtime - a.mtime);
  let total = 0;
  for (const f of files) {
    total += f.size;
    if (total > CACHE_BYTES && !inUse.has(f.path)) rmSync(f.path, { force: true });
  }
}
