// mkbundle pull REF --out DIR: the artifact's files, each blob verified against its digest and
// size while it is written to a temporary file in DIR; only when every file has arrived are
// they renamed into place, so a failed pull leaves DIR as it was.
import { renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { MkError } from "../errors.js";
import { ensureDir } from "../io/ensure-dir.js";
import { onInterrupt } from "../io/cleanup.js";
import { artifactLayers, layerTitle } from "./artifact.js";
import { registryClient, type ClientOptions } from "../registry/client.js";
import { formatReference, type Reference } from "../registry/reference.js";

export interface PullResult {
  reference: string;
  digest: string;
  files: { path: string; digest: string; size: number; mediaType: string }[];
}

export async function pull(
  ref: Reference,
  out: string,
  o: ClientOptions & { onLayer?: (title: string, size: number) => void },
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
  ensureDir(out);
  const temps = layers.map((l, i) => join(out, `.mkbundle-pull-${process.pid}-${i}-${layerTitle(l)}`));
  const forget = onInterrupt(() => temps.forEach((t) => rmSync(t, { force: true })));
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
    layers.forEach((l, i) => renameSync(temps[i]!, join(out, layerTitle(l))));
  } finally {
    temps.forEach((t) => rmSync(t, { force: true }));
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
