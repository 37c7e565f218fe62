// mkbundle verify REF --key PUB (and pull --verify-key): the artifact is what the key's owner
// pushed. A signature referrer whose simple-signing payload the key signed and which names
// this manifest's digest; the SBOM and the provenance referrers whose bytes are the digests
// that payload names; an SBOM whose pushed files are exactly the artifact's layers; a
// provenance statement whose subject is this manifest; and (verify) every layer's bytes.
// Anything a registry sends is bounded and checked before it is believed.
import { readFileSync, rmSync } from "node:fs";
import type { KeyObject } from "node:crypto";
import { MkError } from "../errors.js";
import { tempPath } from "../io/temp.js";
import { PUSHED_ID_PREFIX } from "../bundle/sbom.js";
import { artifactLayers, layerTitle, type Layer } from "./artifact.js";
import { listReferrers, referrerManifest, type Descriptor } from "./referrers.js";
import { parsePayload, signatureValid, SIGNATURE_ANNOTATION, SIGNATURE_ARTIFACT, SIMPLE_SIGNING } from "./signature.js";
import { provenanceSubjects, PROVENANCE_TYPE } from "./provenance.js";
import type { RegistryClient } from "../registry/client.js";

export const SBOM_TYPE = "application/spdx+json";
export const SBOM_KEY = "io.mkbundle.sbom";
export const PROVENANCE_KEY = "io.mkbundle.provenance";
const MAX_PAYLOAD = 64 * 1024;
const MAX_SBOM = 32 * 1024 * 1024;
const MAX_PROVENANCE = 4 * 1024 * 1024;
/** Referrers of one kind (signatures, SBOMs, provenances) tried at most: each costs two requests. */
const MAX_TRIED = 32;

export interface VerifyResult {
  reference: string;
  digest: string;
  /** The repository the signature names (a promoted artifact keeps its first one). */
  signedFor: string;
  signature: string;
  sbom: { digest: string; packages: number; files: number };
  provenance: { digest: string; subjects: number };
  layers: { title: string; digest: string; size: number; fetched: boolean }[];
}

/** A small blob, fetched (checked against its digest) into memory. */
async function smallBlob(client: RegistryClient, d: Descriptor, max: number, what: string): Promise<Buffer> {
  if (d.size > max) throw new MkError("verify", `${what} is ${d.size} bytes; at most ${max} are read`);
  const file = tempPath("blob");
  try {
    await client.fetchBlob(d.digest, file, max);
    return readFileSync(file);
  } finally {
    rmSync(file, { force: true });
  }
}

export async function verifyArtifact(
  client: RegistryClient,
  where: string,
  manifest: { body: Buffer; digest: string },
  key: KeyObject,
  o: { fetchLayers: boolean; onStep?: (what: string) => void },
): Promise<VerifyResult> {
  const fail = (why: string, hint?: string) => new MkError("verify", `${where}: ${why}`, hint ? { hint } : {});
  const layers = artifactLayers(manifest.body, where);
  const referrers = await listReferrers(client, manifest.digest);
  const referrer = async (d: Descriptor) => {
    const m = await client.getManifest(d.digest);
    if (m.digest !== d.digest) throw fail(`the registry sent other bytes for referrer ${d.digest}`);
    const r = referrerManifest(m.body, `${where}: referrer ${d.digest}`);
    if (r.subject !== manifest.digest) throw fail(`referrer ${d.digest} refers to ${r.subject}, not to this artifact`);
    return r;
  };

  // The signature: any listed one the key made over a payload naming this digest.
  const signatures = referrers.filter((d) => d.artifactType === SIGNATURE_ARTIFACT);
  if (!signatures.length)
    throw fail("it is not signed (no signature among its referrers)", "push it with mkbundle push --sign-key");
  let claims: ReturnType<typeof parsePayload>;
  let signature = "";
  for (const d of signatures.slice(0, MAX_TRIED)) {
    const r = await referrer(d);
    if (r.layer.mediaType !== SIMPLE_SIGNING) continue;
    const payload = await smallBlob(client, r.layer, MAX_PAYLOAD, `${where}: signature payload ${r.layer.digest}`);
    const c = parsePayload(payload);
    if (!c || c.manifestDigest !== manifest.digest) continue;
    if (!signatureValid(payload, r.layer.annotations?.[SIGNATURE_ANNOTATION], key)) continue;
    claims = c;
    signature = d.digest;
    break;
  }
  if (!claims)
    throw fail(
      `none of its ${signatures.length} signature${signatures.length > 1 ? "s" : ""} is by this key over this artifact's digest`,
      "a tampered signature, another signer's key, or a signature made for other bytes",
    );
  o.onStep?.(`signature ${signature} by the key, for ${claims.repository}@${manifest.digest}`);

  // The SBOM and provenance the signature names, attached as referrers.
  const names = claims.attached;
  const attached = async (key: string, type: string, max: number, what: string) => {
    const want = names[key];
    if (!want) throw fail(`its signature names no ${what}`);
    for (const d of referrers.filter((x) => x.artifactType === type).slice(0, MAX_TRIED)) {
      const r = await referrer(d);
      if (r.layer.digest === want)
        return { digest: d.digest, body: await smallBlob(client, r.layer, max, `${where}: ${what}`) };
    }
    throw fail(`the ${what} its signature names (${want}) is not attached to it`);
  };
  const sbom = await attached(SBOM_KEY, SBOM_TYPE, MAX_SBOM, "SBOM");
  const sbomCheck = sbomMatches(sbom.body, layers);
  if (typeof sbomCheck === "string") throw fail(`its SBOM ${sbomCheck}`);
  o.onStep?.(
    `SBOM ${sbom.digest}: ${sbomCheck.packages} packages, ${sbomCheck.files} files; its pushed files are the layers`,
  );
  const provenance = await attached(PROVENANCE_KEY, PROVENANCE_TYPE, MAX_PROVENANCE, "provenance");
  const subjects = provenanceSubjects(provenance.body);
  if (!subjects) throw fail("its provenance is not an in-toto statement with a SLSA provenance predicate");
  if (!subjects.some((s) => `sha256:${s.sha256}` === manifest.digest))
    throw fail("its provenance's subjects do not include this artifact's digest");
  o.onStep?.(`provenance ${provenance.digest}: ${subjects.length} subjects, this artifact among them`);

  const checked: VerifyResult["layers"] = [];
  for (const l of layers) {
    if (o.fetchLayers) {
      const file = tempPath("layer");
      try {
        await client.fetchBlob(l.digest, file, l.size);
      } finally {
        rmSync(file, { force: true });
      }
      o.onStep?.(`layer ${layerTitle(l)}: ${l.digest}`);
    }
    checked.push({ title: layerTitle(l), digest: l.digest, size: l.size, fetched: o.fetchLayers });
  }
  return {
    reference: where,
    digest: manifest.digest,
    signedFor: claims.repository,
    signature,
    sbom: { digest: sbom.digest, packages: sbomCheck.packages, files: sbomCheck.files },
    provenance: { digest: provenance.digest, subjects: subjects.length },
    layers: checked,
  };
}

/** Whether an SPDX SBOM's pushed files are exactly the layers (name and sha256); else why not. */
function sbomMatches(body: Buffer, layers: readonly Layer[]): { packages: number; files: number } | string {
  let j: unknown;
  try {
    j = JSON.parse(body.toString("utf8"));
  } catch {
    return "is not JSON";
  }
  const doc = j as { spdxVersion?: unknown; packages?: unknown; files?: unknown };
  if (doc?.spdxVersion !== "SPDX-2.3" || !Array.isArray(doc.packages)) return "is not an SPDX 2.3 document";
  const pushed = new Map<string, string>();
  for (const p of doc.packages as { SPDXID?: unknown; name?: unknown; checksums?: unknown }[]) {
    if (typeof p?.SPDXID !== "string" || !p.SPDXID.startsWith(PUSHED_ID_PREFIX) || typeof p.name !== "string") continue;
    const sum = Array.isArray(p.checksums)
      ? (p.checksums as { algorithm?: unknown; checksumValue?: unknown }[]).find((c) => c?.algorithm === "SHA256")
      : undefined;
    pushed.set(p.name, typeof sum?.checksumValue === "string" ? sum.checksumValue : "");
  }
  for (const l of layers) {
    const want = l.digest.replace(/^sha256:/, "");
    const got = pushed.get(layerTitle(l));
    if (got === undefined) return `does not list the layer ${layerTitle(l)}`;
    if (got !== want) return `lists ${layerTitle(l)} with sha256 ${got}, and the layer is ${want}`;
  }
  if (pushed.size !== layers.length)
    return `lists ${pushed.size} pushed files and the artifact has ${layers.length} layers`;
  return { packages: doc.packages.length - pushed.size, files: Array.isArray(doc.files) ? doc.files.length : 0 };
}
