// What the bundle stage wrote last time, and from what: when a build's inputs have the same
// digest and its outputs are still the files it wrote, the stage has nothing to do (no base
// ISO opened, no overlay compiled or compressed). Kept in --out beside the bundles.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { FileStamp } from "../io/file-stamp.js";
import { writeFileAtomic } from "../io/write-atomic.js";

const RECORD_FILE = ".mkbundle-bundles.json";

export interface BundleRecord {
  /** Digest of every input: the code, the resolved manifest, the lock, files: sources, options. */
  key: string;
  bundle: FileStamp & { path: string };
  overlay: FileStamp & { path: string };
  /** tc's /etc/shadow field in the bundle (a crypt hash, as the bundle itself holds it). */
  tcField: string;
  overlayFiles: number;
  /** files: sources by absolute path: their digests are reused while their stamps hold. */
  sources: Record<string, FileStamp>;
  /** Digests of the code, manifest, lock and options, to say which changed. */
  parts?: Record<string, string>;
}

type Records = Record<string, BundleRecord>;

export function readRecords(out: string): Records {
  const path = join(out, RECORD_FILE);
  if (!existsSync(path)) return {};
  try {
    const data = JSON.parse(readFileSync(path, "utf8")) as unknown;
    return data && typeof data === "object" && !Array.isArray(data) ? (data as Records) : {};
  } catch {
    return {}; // a damaged record only costs a rebuild
  }
}

export async function writeRecord(out: string, name: string, record: BundleRecord): Promise<void> {
  const records = { ...readRecords(out), [name]: record };
  await writeFileAtomic(join(out, RECORD_FILE), Buffer.from(JSON.stringify(records, null, 1) + "\n"));
}
