// mkbundle's OCI artifact: an image manifest with artifactType application/vnd.mkbundle.image.v1,
// the empty config (as the OCI artifacts guidance has it), one layer per file with its media
// type and an org.opencontainers.image.title annotation, and annotations naming the image.
// Generic tools (oras pull, skopeo inspect, crane manifest) read it as any artifact.
import { MkError } from "../errors.js";
import { BUNDLE_FILE } from "../outdir/names.js";
import { OCI_MANIFEST } from "../registry/client.js";

const ARTIFACT_TYPE = "application/vnd.mkbundle.image.v1";
export const EMPTY_CONFIG = {
  mediaType: "application/vnd.oci.empty.v1+json",
  digest: "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
  size: 2,
  data: "e30=",
};
const TITLE = "org.opencontainers.image.title";
const MAX_LAYERS = 1000;

export interface Layer {
  mediaType: string;
  digest: string;
  size: number;
  annotations: Record<string, string>;
}

/** A file's media type, from what it is (by name: these are mkbundle's own outputs). */
export function mediaTypeOf(name: string): string {
  if (BUNDLE_FILE.test(name)) return "application/vnd.mkbundle.bundle.v1.tar+gzip";
  if (/\.iso$/.test(name)) return "application/vnd.efi.iso";
  if (/\.lock$/.test(name)) return "application/vnd.mkbundle.lock.v1+yaml";
  if (/-efi\.img$/.test(name)) return "application/vnd.efi.img";
  if (name === "boot.ipxe") return "text/plain";
  if (name === "SHA256SUMS") return "text/plain";
  return "application/octet-stream";
}

export function artifactManifest(layers: Layer[], annotations: Record<string, string>): Buffer {
  const manifest = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    artifactType: ARTIFACT_TYPE,
    config: EMPTY_CONFIG,
    layers,
    annotations,
  };
  return Buffer.from(JSON.stringify(manifest));
}

/**
 * A plain file name: what a layer's title may be, so that pull writes only inside --out and
 * prints nothing that drives a terminal (no control characters, no newline, no escape).
 */
export const safeTitle = (t: unknown): t is string =>
  typeof t === "string" &&
  /^[^/\\\x00-\x1f\x7f-\x9f]+$/.test(t) &&
  Buffer.byteLength(t) <= 255 &&
  t !== "." &&
  t !== "..";

/** The layers of a pulled manifest, checked: an OCI image manifest, digests, sizes and titles that can be files. */
export function artifactLayers(body: Buffer, where: string): Layer[] {
  let m: unknown;
  try {
    m = JSON.parse(body.toString("utf8"));
  } catch {
    throw new MkError("format", `${where}: the manifest is not JSON`);
  }
  const bad = (why: string) => new MkError("format", `${where}: ${why}`);
  const o = m as { schemaVersion?: unknown; mediaType?: unknown; layers?: unknown };
  if (o.schemaVersion !== 2) throw bad("not an OCI image manifest (schemaVersion is not 2)");
  if (o.mediaType !== undefined && o.mediaType !== OCI_MANIFEST)
    throw bad(
      `its media type is ${JSON.stringify(o.mediaType)}, not an OCI image manifest (an index or a Docker image?)`,
    );
  if (!Array.isArray(o.layers) || o.layers.length === 0) throw bad("it has no layers");
  if (o.layers.length > MAX_LAYERS) throw bad(`it has ${o.layers.length} layers; at most ${MAX_LAYERS} are pulled`);
  const titles = new Set<string>();
  return o.layers.map((l: unknown, i) => {
    const layer = l as Partial<Layer>;
    if (typeof layer.digest !== "string" || !/^sha256:[0-9a-f]{64}$/.test(layer.digest))
      throw bad(`layer ${i} has no sha256 digest`);
    if (typeof layer.size !== "number" || !Number.isSafeInteger(layer.size) || layer.size < 0)
      throw bad(`layer ${i} has no usable size`);
    const title = layer.annotations?.[TITLE];
    if (!safeTitle(title))
      throw bad(`layer ${i} has no title that can be a file name (${JSON.stringify(title)?.slice(0, 300)})`);
    if (titles.has(title)) throw bad(`two layers are titled ${title}`);
    titles.add(title);
    return {
      mediaType: typeof layer.mediaType === "string" ? layer.mediaType : "application/octet-stream",
      digest: layer.digest,
      size: layer.size,
      annotations: { ...layer.annotations, [TITLE]: title },
    };
  });
}

export const layerTitle = (l: Layer): string => l.annotations[TITLE]!;
export const titled = (title: string): Record<string, string> => ({ [TITLE]: title });
