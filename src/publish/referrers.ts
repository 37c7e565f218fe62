// OCI 1.1 referrers: manifests that name another as their `subject` (a signature, an SBOM,
// a provenance statement). Pushed as an artifact manifest with one layer; listed through the
// registry's referrers API, or, where the registry has none (docker-registry 2.x, most
// registries before 2023), through the spec's fallback: an image index under the tag
// `sha256-<hex>` that the pushing client keeps up to date.
import { createHash } from "node:crypto";
import { MkError } from "../errors.js";
import { EMPTY_CONFIG } from "./artifact.js";
import { OCI_INDEX, OCI_MANIFEST, type RegistryClient } from "../registry/client.js";

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
}

const MAX_REFERRERS = 1000;
const DIGEST = /^sha256:[0-9a-f]{64}$/;
const fallbackTag = (digest: string) => digest.replace(":", "-");
const sha256 = (b: Buffer) => `sha256:${createHash("sha256").update(b).digest("hex")}`;

/**
 * Pushes `data` as the one layer of a manifest of `artifactType` whose subject is `subject`,
 * and lists it for the subject: by the registry (OCI-Subject) or in the fallback index.
 */
export async function attachReferrer(
  client: RegistryClient,
  subject: Descriptor,
  artifactType: string,
  layer: { mediaType: string; data: Buffer; annotations?: Record<string, string> },
  annotations: Record<string, string>,
): Promise<Descriptor & { layerDigest: string }> {
  const layerDigest = sha256(layer.data);
  await client.pushBlob(layerDigest, layer.data, layer.data.length);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType,
      config: EMPTY_CONFIG,
      layers: [
        {
          mediaType: layer.mediaType,
          digest: layerDigest,
          size: layer.data.length,
          ...(layer.annotations ? { annotations: layer.annotations } : {}),
        },
      ],
      subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
      annotations,
    }),
  );
  const digest = sha256(manifest);
  const put = await client.putManifest(digest, manifest);
  const descriptor: Descriptor = { mediaType: OCI_MANIFEST, digest, size: manifest.length, artifactType, annotations };
  if (!put.ociSubject) await addToFallbackIndex(client, subject.digest, descriptor);
  return { ...descriptor, layerDigest };
}

async function addToFallbackIndex(client: RegistryClient, subject: string, d: Descriptor): Promise<void> {
  const existing = await fallbackIndex(client, subject);
  const manifests = [...existing.filter((m) => m.digest !== d.digest), d];
  const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests }));
  await client.putManifest(fallbackTag(subject), index, OCI_INDEX);
}

async function fallbackIndex(client: RegistryClient, subject: string): Promise<Descriptor[]> {
  try {
    const got = await client.getManifest(fallbackTag(subject), OCI_INDEX);
    return indexDescriptors(got.body, `the referrers index ${fallbackTag(subject)}`);
  } catch (e) {
    if (e instanceof MkError && e.code === "lookup") return [];
    throw e;
  }
}

/** What refers to `subject`: the referrers API's answer, else the fallback tag's index. */
export async function listReferrers(client: RegistryClient, subject: string): Promise<Descriptor[]> {
  const api = await client.referrers(subject);
  return api ? indexDescriptors(api, `the referrers of ${subject}`) : fallbackIndex(client, subject);
}

/** JSON a registry sent, or a format error naming where it came from. */
function parseJson(body: Buffer, where: string): unknown {
  try {
    return JSON.parse(body.toString("utf8"));
  } catch {
    throw new MkError("format", `${where}: it is not JSON`);
  }
}

/** A descriptor with a sha256 digest and a size, string annotations only; else undefined. */
function descriptorOf(v: unknown): Descriptor | undefined {
  const m = v as Partial<Descriptor> | null;
  if (!m || typeof m.digest !== "string" || !DIGEST.test(m.digest)) return undefined;
  if (typeof m.size !== "number" || !Number.isSafeInteger(m.size) || m.size < 0) return undefined;
  const annotations =
    m.annotations && typeof m.annotations === "object"
      ? Object.fromEntries(Object.entries(m.annotations).filter(([, x]) => typeof x === "string"))
      : undefined;
  return {
    mediaType: typeof m.mediaType === "string" ? m.mediaType : "",
    digest: m.digest,
    size: m.size,
    ...(typeof m.artifactType === "string" ? { artifactType: m.artifactType } : {}),
    ...(annotations ? { annotations } : {}),
  };
}

/** The descriptors of an index a registry sent, checked: digests, sizes, types (hostile input). */
export function indexDescriptors(body: Buffer, where: string): Descriptor[] {
  const index = parseJson(body, where) as { schemaVersion?: unknown; manifests?: unknown } | null;
  const bad = (why: string) => new MkError("format", `${where}: ${why}`);
  if (index?.schemaVersion !== 2 || !Array.isArray(index.manifests)) throw bad("it is not an OCI image index");
  if (index.manifests.length > MAX_REFERRERS)
    throw bad(`it lists ${index.manifests.length} manifests; at most ${MAX_REFERRERS} are read`);
  return index.manifests.flatMap((m) => descriptorOf(m) ?? []);
}

/** A referrer manifest a registry sent: its subject's digest and its one layer. */
export function referrerManifest(
  body: Buffer,
  where: string,
): { subject: string; artifactType: string; layer: Descriptor } {
  const m = parseJson(body, where) as {
    schemaVersion?: unknown;
    artifactType?: unknown;
    subject?: { digest?: unknown };
    layers?: unknown[];
  } | null;
  const bad = (why: string) => new MkError("format", `${where}: ${why}`);
  if (m?.schemaVersion !== 2 || !Array.isArray(m.layers)) throw bad("it is not an OCI image manifest");
  const layer = m.layers.length === 1 ? descriptorOf(m.layers[0]) : undefined;
  if (!layer) throw bad("it does not have exactly one layer with a sha256 digest and a size");
  if (typeof m.subject?.digest !== "string") throw bad("it has no subject");
  return {
    subject: m.subject.digest,
    artifactType: typeof m.artifactType === "string" ? m.artifactType : "",
    layer,
  };
}
