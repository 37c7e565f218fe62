// mkbundle pull REF --out DIR: the artifact's files (with --verify-key, only once its signature,
// SBOM and provenance check out: verify.ts), each blob verified against its digest and
// size while it is written to a temporary file in DIR; only when every file has arrived are
// they renamed into place (what they replace kept aside until all are in), so a failed pull
// leaves DIR as it was. Temporary names are short (a 255-byte title still fits) and carry the
// pid, so one left by a killed pull is removed by the next.
import { lstatSync, readdirSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { MkError } from "../errors.js";
import { ensureDir } from "../io/ensure-dir.js";
import { onInterrupt } from "../io/cleanup.js";
import { processGone } from "../io/process-gone.js";
import { artifactLayers, layerTitle } from "./artifact.js";
import { registryClient, type ClientOptions } from "../registry/client.js";
import { verifyArtifact } from "./verify.js";
import type { KeyObject } from "node:crypto";
import { formatReference, type Reference } from "../registry/reference.js";

export interface PullResult {
  reference: string;
  digest: string;
  files: { path: string; digest: string; size: number; mediaType: string }[];
}

export async function pull(
  ref: Reference,
  out: string,
  o: ClientOptions & {
    onLayer?: (title: string, size: number) => void;
    /** Refuse, before anything is written, an artifact this key did not sign (verify.ts). */
    verifyKey?: KeyObject;
    onVerified?: (what: string) => void;
  },
): Promise<PullResult> {
  const reference = ref.digest ?? ref.tag;
  if (!reference)
    throw new MkError("usage", `pull needs a tag or a digest: ${formatReference(ref)}`, {
      hint: "e.g. 127.0.0.1:5000/team/mk:0.9.0.1",
    });
  const client = registryClient(ref, o);
  const manifest = await client.getManifest(reference);
  if (ref.digest && manifest.digest !== ref.digest)
    throw new MkError(
      "verify",
      `${formatReference(ref)}: the registry sent a manifest whose digest is ${manifest.digest}`,
    );
  const layers = artifactLayers(manifest.body, formatReference(ref));
  if (o.verifyKey)
    await verifyArtifact(client, formatReference(ref), manifest, o.verifyKey, {
      fetchLayers: false,
      ...(o.onVerified ? { onStep: o.onVerified } : {}),
    });
  ensureDir(out);
  removeStaleTemps(out);
  const targets = layers.map((l) => join(out, layerTitle(l)));
  for (const t of targets) {
    const kind = lstatKind(t);
    if (kind && kind !== "file")
      throw new MkError("usage", `${t} is a ${kind}: pull replaces only files`, {
        hint: "move it away, or pull into another --out",
      });
  }
  const temps = layers.map((_, i) => join(out, `${TEMP}${process.pid}-${i}`));
  const kept = layers.map((_, i) => join(out, `${TEMP}${process.pid}-${i}.old`));
  const forget = onInterrupt(() => [...temps, ...kept].forEach((t) => rmSync(t, { force: true })));
  try {
    for (const [i, l] of layers.entries()) {
      rmSync(temps[i]!, { force: true });
      const size = await client.fetchBlob(l.digest, temps[i]!, l.size);
      if (size !== l.size)
        throw new MkError(
          "verify",
          `${formatReference(ref)}: ${layerTitle(l)} is ${size} bytes; its manifest says ${l.size}`,
        );
      o.onLayer?.(layerTitle(l), size);
    }
    placeAll(temps, targets, kept);
  } finally {
    [...temps, ...kept].forEach((t) => rmSync(t, { force: true }));
    forget();
  }
  return {
    reference: formatReference(ref),
    digest: manifest.digest,
    files: layers.map((l) => ({
      path: join(out, layerTitle(l)),
      digest: l.digest,
      size: l.size,
      mediaType: l.mediaType,
    })),
  };
}

const TEMP = ".mkbundle-pull-";

function lstatKind(path: string): "file" | "directory" | "symlink" | "special file" | undefined {
  try {
    const st = lstatSync(path);
    return st.isFile() ? "file" : st.isDirectory() ? "directory" : st.isSymbolicLink() ? "symlink" : "special file";
  } catch {
    return undefined;
  }
}

/**
 * Every temp file renamed onto its target, or none: the files they replace are moved aside
 * first, and put back if any rename fails.
 */
function placeAll(temps: readonly string[], targets: readonly string[], kept: readonly string[]): void {
  const asideDone: number[] = [];
  const placed: number[] = [];
  try {
    targets.forEach((t, i) => {
      if (lstatKind(t)) {
        renameSync(t, kept[i]!);
        asideDone.push(i);
      }
    });
    temps.forEach((t, i) => {
      renameSync(t, targets[i]!);
      placed.push(i);
    });
  } catch (e) {
    for (const i of placed) renameSync(targets[i]!, temps[i]!);
    for (const i of asideDone) renameSync(kept[i]!, targets[i]!);
    throw e;
  }
}

/** Temp files of pulls whose process is gone (killed): removed. */
function removeStaleTemps(out: string): void {
  for (const name of readdirSync(out)) {
    const pid = name.startsWith(TEMP) ? Number(name.slice(TEMP.length).split("-")[0]) : NaN;
    if (processGone(pid)) rmSync(join(out, name), { force: true });
  }
}
