// The bundle stage (Razor's build-bundle-file.sh): lock, base image, overlay, bundle.
import { createHash } from "node:crypto";
import { relative, resolve } from "node:path";
import { memoryLog } from "../log.js";
import { lockStage, type LockStatus } from "../lock/stage.js";
import type { Lock } from "../lock/lock-file.js";
import type { ResolveContext } from "../lock/context.js";
import type { ManifestInput } from "../manifest/input.js";
import { hashFile } from "../io/hash.js";
import { tcShadowField } from "../overlay/accounts.js";
import { stampOf, stillStamped, type FileStamp } from "../io/file-stamp.js";
import { codeIdentity } from "../io/package-version.js";
import { recordLastBundle } from "../remaster/choose-bundle.js";
import { bundleFileName } from "../remaster/names.js";
import type { WrittenFile } from "./bundle.js";
import { readRecords, type BundleRecord } from "./record.js";

export interface BundleStageOptions {
  input: ManifestInput;
  out: string;
  update?: boolean;
  frozen?: boolean;
  allowMissingCommands?: boolean;
}

export interface BundleResult {
  lock: Lock;
  lockStatus: LockStatus;
  lockFile?: string;
  /** Files (not directories) in the overlay. */
  overlayFiles: number;
  overlay: WrittenFile;
  bundle: WrittenFile;
  /** Why the bundle was built again ("first build", "the manifest changed", "files/motd changed"), or "same inputs". */
  why: string;
}

export async function bundleStage(o: BundleStageOptions, ctx: ResolveContext): Promise<BundleResult> {
  const { manifest } = o.input;
  const { lock, status, lockFile } = await lockStage(
    {
      manifest,
      ...(o.input.file ? { manifestFile: o.input.file } : {}),
      ...(o.update ? { update: true } : {}),
      ...(o.frozen ? { frozen: true } : {}),
      deferDownloads: true,
    },
    ctx,
  );
  const lockResult = { lock, lockStatus: status, ...(lockFile ? { lockFile } : {}) };
  const name = bundleFileName(manifest);
  const record = readRecords(o.out)[name];
  const sources = await sourceStamps(o.input, record?.sources ?? {});
  const parts = inputParts(o, lock);
  const key = inputKey(parts, sources);
  const unchanged = unchangedSince(record, key, o.input, ctx);
  if (unchanged) {
    await recordLastBundle(o.out, unchanged.bundle.path);
    return { ...lockResult, ...unchanged, why: "same inputs" };
  }
  const why = whyRebuilt(record, parts, sources, o.input.dir);

  // Something changed: the downloads are checked (and fetched), then everything is compiled.
  // (Loaded only now: an unchanged build never reads the compiler's modules.)
  const { compileBundle } = await import("./compile-bundle.js");
  const { overlay, bundle, overlayFiles } = await compileBundle(o, ctx, { lock, status, record, key, sources, parts });
  return { ...lockResult, overlayFiles, overlay, bundle, why };
}

/** The files: sources' digests: from the record while a file's stamp holds, else hashed now. */
async function sourceStamps(
  input: ManifestInput,
  known: Record<string, FileStamp>,
): Promise<Record<string, FileStamp>> {
  const out: Record<string, FileStamp> = {};
  for (const f of input.manifest.files) {
    if (!("source" in f)) continue;
    const path = resolve(input.dir, f.source);
    if (out[path]) continue;
    out[path] = stillStamped(path, known[path]) ? known[path]! : stampOf(path, (await hashFile(path)).sha256);
  }
  return out;
}

/** Digests of what a bundle is made from, each on its own so that a rebuild can say which changed. */
function inputParts(o: BundleStageOptions, lock: Lock): Record<string, string> {
  const digest = (v: unknown) => createHash("sha256").update(JSON.stringify(v)).digest("hex");
  return {
    mkbundle: codeIdentity(),
    manifest: digest(o.input.manifest),
    lock: digest(lock),
    options: digest([!!o.allowMissingCommands]),
  };
}

function inputKey(parts: Record<string, string>, sources: Record<string, FileStamp>): string {
  return createHash("sha256")
    .update(JSON.stringify([parts, Object.entries(sources).map(([p, s]) => [p, s.sha256])]))
    .digest("hex");
}

/** Why the bundle is built again, in words: "the manifest changed", "files/motd changed", ... */
function whyRebuilt(
  record: BundleRecord | undefined,
  parts: Record<string, string>,
  sources: Record<string, FileStamp>,
  dir: string,
): string {
  if (!record) return "first build";
  if (!record.parts) return "inputs changed";
  const said: Record<string, string> = {
    mkbundle: "mkbundle changed",
    manifest: "the manifest changed",
    lock: "the lock changed",
    options: "the options changed",
  };
  const reasons = Object.keys(parts)
    .filter((k) => record.parts![k] !== parts[k])
    .map((k) => said[k] ?? `${k} changed`);
  const changed = Object.keys(sources).filter((p) => record.sources[p]?.sha256 !== sources[p]!.sha256);
  if (changed.length)
    reasons.push(
      `${changed
        .slice(0, 3)
        .map((p) => relative(dir, p))
        .join(", ")}${changed.length > 3 ? ` and ${changed.length - 3} more` : ""} changed`,
    );
  return reasons.length ? reasons.join("; ") : "the bundle on disk changed, or tc's password did";
}

/**
 * The last result again, when nothing it depends on changed: the same input digest, the
 * bundle and overlay still the files written, and tc's password still the one hashed there.
 */
function unchangedSince(
  record: BundleRecord | undefined,
  key: string,
  input: ManifestInput,
  ctx: ResolveContext,
): Pick<BundleResult, "overlay" | "bundle" | "overlayFiles"> | undefined {
  if (!record || record.key !== key) return undefined;
  if (!stillStamped(record.bundle.path, record.bundle) || !stillStamped(record.overlay.path, record.overlay))
    return undefined;
  const problems: string[] = [];
  const held = memoryLog(); // its warnings are the build's only if this is the result
  const tc = tcShadowField(
    { manifest: input.manifest, env: input.env, manifestDir: input.dir, log: held, previousTcHash: record.tcField },
    problems,
  );
  if (problems.length || tc !== record.tcField) return undefined;
  for (const line of held.lines) ctx.log.warn(line.replace(/^warning: /, ""));
  const same = (f: BundleRecord["bundle"]) => ({ path: f.path, sha256: f.sha256, size: f.size, written: false });
  return { overlay: same(record.overlay), bundle: same(record.bundle), overlayFiles: record.overlayFiles };
}
