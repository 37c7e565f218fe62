// push --sign-key: after the artifact's manifest, three referrers (subject = the artifact):
// its SBOM (SPDX 2.3, from the bundle, listing the pushed files as the layers they are), a
// provenance statement (in-toto, SLSA v1), and a cosign simple-signing signature over a
// payload naming the artifact's digest and the SBOM's and provenance's digests: one signature
// covers all three. The signature is checked with the key's public half before it is pushed.
import type { KeyObject } from "node:crypto";
import { sbomOf } from "../bundle/sbom.js";
import type { OpenedBundle } from "../bundle/read-bundle.js";
import type { RegistryClient } from "../registry/client.js";
import { layerTitle, type Layer } from "./artifact.js";
import { provenanceStatement, PROVENANCE_TYPE } from "./provenance.js";
import { attachReferrer, type Descriptor } from "./referrers.js";
import {
  publicOf,
  signatureValid,
  signPayload,
  simpleSigningPayload,
  SIGNATURE_ANNOTATION,
  SIGNATURE_ARTIFACT,
  SIMPLE_SIGNING,
} from "./signature.js";
import { PROVENANCE_KEY, SBOM_KEY, SBOM_TYPE } from "./verify.js";

export interface SignedReferrers {
  signature: string;
  sbom: string;
  provenance: string;
}

export async function signArtifact(
  client: RegistryClient,
  subject: Descriptor,
  bundle: OpenedBundle,
  layers: readonly Layer[],
  o: { key: KeyObject; revision: string | undefined },
): Promise<SignedReferrers> {
  const repository = `${client.ref.registry}/${client.ref.repository}`;
  const pushed = layers.map((l) => ({ name: layerTitle(l), sha256: l.digest.replace(/^sha256:/, "") }));
  const created = { "org.opencontainers.image.created": new Date(bundle.json.epoch * 1000).toISOString() };
  const sbom = await attachReferrer(
    client,
    subject,
    SBOM_TYPE,
    { mediaType: SBOM_TYPE, data: Buffer.from(sbomOf(bundle.json, bundle.overlay, "spdx", pushed)) },
    created,
  );
  const provenance = await attachReferrer(
    client,
    subject,
    PROVENANCE_TYPE,
    {
      mediaType: PROVENANCE_TYPE,
      data: provenanceStatement(bundle.json, { repository, digest: subject.digest }, pushed, o.revision),
    },
    created,
  );
  const payload = simpleSigningPayload({
    repository,
    manifestDigest: subject.digest,
    attached: { [SBOM_KEY]: sbom.layerDigest, [PROVENANCE_KEY]: provenance.layerDigest },
  });
  const signature = signPayload(payload, o.key);
  if (!signatureValid(payload, signature, publicOf(o.key))) throw new Error("a fresh signature does not verify");
  const signed = await attachReferrer(
    client,
    subject,
    SIGNATURE_ARTIFACT,
    { mediaType: SIMPLE_SIGNING, data: payload, annotations: { [SIGNATURE_ANNOTATION]: signature } },
    created,
  );
  return { signature: signed.digest, sbom: sbom.digest, provenance: provenance.digest };
}
