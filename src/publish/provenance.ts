// The provenance pushed with a signed artifact: an in-toto Statement v1 with a SLSA provenance
// v1 predicate. Subjects: the artifact's manifest and each pushed file. The build is described
// by what the bundle holds: the resolved manifest's and the lock's digests (of their JSON in
// the bundle), the --revision, the mkbundle version that made the bundle, and every download
// the lock pinned. No clock: the same bundle and push give the same statement.
import { createHash } from "node:crypto";
import { lockedDownloads } from "../bundle/sbom.js";
import type { BundleJson } from "../bundle/bundle.js";
import type { PushedFile } from "../bundle/sbom.js";

export const PROVENANCE_TYPE = "application/vnd.in-toto+json";
const SLSA_PROVENANCE = "https://slsa.dev/provenance/v1";
const STATEMENT = "https://in-toto.io/Statement/v1";

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

export function provenanceStatement(
  json: BundleJson,
  artifact: { repository: string; digest: string },
  pushed: readonly PushedFile[],
  revision: string | undefined,
): Buffer {
  const statement = {
    _type: STATEMENT,
    subject: [
      { name: artifact.repository, digest: { sha256: artifact.digest.replace(/^sha256:/, "") } },
      ...pushed.map((f) => ({ name: f.name, digest: { sha256: f.sha256 } })),
    ],
    predicateType: SLSA_PROVENANCE,
    predicate: {
      buildDefinition: {
        buildType: "https://mkbundle.dev/provenance/bundle/v1",
        externalParameters: {
          manifest: {
            name: json.name,
            flavour: json.flavour,
            ...(json.version ? { version: json.version } : {}),
            digest: { sha256: sha256(JSON.stringify(json.manifest)) },
          },
          lock: { digest: { sha256: sha256(JSON.stringify(json.lock)) } },
          ...(revision ? { revision } : {}),
        },
        internalParameters: { epoch: json.epoch, bundleVersion: json.bundleVersion },
        resolvedDependencies: lockedDownloads(json).map((d) => ({
          name: d.name,
          uri: d.location,
          digest: { sha256: d.sha256 },
        })),
      },
      runDetails: { builder: { id: "https://mkbundle.dev/mkbundle", version: { mkbundle: json.mkbundle } } },
    },
  };
  return Buffer.from(`${JSON.stringify(statement, null, 2)}\n`);
}

/** The subject digests of a provenance statement a registry sent (undefined: not one). */
export function provenanceSubjects(body: Buffer): { name: string; sha256: string }[] | undefined {
  let j: unknown;
  try {
    j = JSON.parse(body.toString("utf8"));
  } catch {
    return undefined;
  }
  const s = j as { _type?: unknown; predicateType?: unknown; subject?: unknown };
  if (s?._type !== STATEMENT || s.predicateType !== SLSA_PROVENANCE || !Array.isArray(s.subject)) return undefined;
  return s.subject.flatMap((x: { name?: unknown; digest?: { sha256?: unknown } }) =>
    typeof x?.name === "string" && typeof x.digest?.sha256 === "string"
      ? [{ name: x.name, sha256: x.digest.sha256 }]
      : [],
  );
}
