// mkbundle push FILE... REF: the files as one OCI artifact (artifact.ts), blobs first (skipped
// when the registry has them, mounted from --mount-from's repository when it has them), then
// the manifest under REF's tag.
import { statSync } from "node:fs";
import { basename } from "node:path";
import { readBundle } from "../bundle/read-bundle.js";
import { MkError } from "../errors.js";
import type { ReadLimits } from "../formats/limits.js";
import { BUNDLE_FILE } from "../outdir/names.js";
import { hashFile } from "../io/hash.js";
import { artifactManifest, EMPTY_CONFIG, mediaTypeOf, safeTitle, titled, type Layer } from "./artifact.js";
import { OCI_MANIFEST, registryClient, type ClientOptions } from "../registry/client.js";
import { signArtifact, type SignedReferrers } from "./signed-push.js";
import type { BundleJson } from "../bundle/bundle.js";
import type { KeyObject } from "node:crypto";
import { formatReference, type Reference } from "../registry/reference.js";

export interface PushResult {
  reference: string;
  digest: string;
  layers: (Layer & { file: string; sent: "exists" | "mounted" | "uploaded" })[];
  /** With --sign-key: the referrers attached (their manifest digests). */
  signed?: SignedReferrers;
}

/** What the pushed image is, from the bundle among the files (name, flavour, version, base). */
function annotationsOf(json: BundleJson | undefined, revision: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (json) {
    out["io.mkbundle.manifest"] = json.name;
    out["io.mkbundle.flavour"] = json.flavour;
    if (json.version) out["org.opencontainers.image.version"] = json.version;
    out["io.mkbundle.base.sha256"] = json.lock.base.sha256;
    // The build's time, never the clock: the same bundle pushes the same manifest.
    out["org.opencontainers.image.created"] = new Date(json.epoch * 1000).toISOString();
  }
  if (revision) out["org.opencontainers.image.revision"] = revision;
  return out;
}

export async function push(
  files: readonly string[],
  ref: Reference,
  o: ClientOptions & {
    revision?: string;
    /** What reading the bundle among the files may cost. */
    limits: ReadLimits;
    /** A repository of the same registry whose blobs are mounted rather than uploaded (promotion). */
    mountFrom?: string;
    /** Sign the artifact and attach its SBOM and provenance (signed-push.ts). */
    signKey?: KeyObject;
    onLayer?: (title: string, sent: string) => void;
  },
): Promise<PushResult> {
  if (!ref.tag || ref.digest)
    throw new MkError("usage", `push needs a tag: ${formatReference(ref)}`, {
      hint: "e.g. 127.0.0.1:5000/team/mk:0.9.0.1",
    });
  const titles = new Set<string>();
  for (const f of files) {
    let st;
    try {
      st = statSync(f);
    } catch (e) {
      throw new MkError("usage", `cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)})`, { file: f });
    }
    if (!st.isFile()) throw new MkError("usage", "is not a regular file", { file: f });
    const title = basename(f);
    if (!safeTitle(title)) throw new MkError("usage", "its name cannot be a layer title", { file: f });
    if (titles.has(title))
      throw new MkError("usage", `two files are named ${title}: a pull could not write both`, { file: f });
    titles.add(title);
  }
  const bundleFile = files.find((f) => BUNDLE_FILE.test(basename(f)));
  if (o.signKey && !bundleFile)
    throw new MkError(
      "usage",
      "--sign-key needs the image's bundle among the files: its SBOM and provenance come from it",
      {
        hint: "add build-files/NAME-bundle-FLAVOUR.tar.gz to the files pushed",
      },
    );
  const bundle = bundleFile ? await readBundle(bundleFile, o.limits) : undefined;
  const client = registryClient(ref, o);
  const config = Buffer.from("{}");
  await client.pushBlob(EMPTY_CONFIG.digest, config, config.length);
  const layers: PushResult["layers"] = [];
  for (const file of files) {
    const { sha256, size } = await hashFile(file);
    const digest = `sha256:${sha256}`;
    const sent = await client.pushBlob(digest, file, size, o.mountFrom);
    o.onLayer?.(basename(file), sent);
    layers.push({
      file,
      mediaType: mediaTypeOf(basename(file)),
      digest,
      size,
      annotations: titled(basename(file)),
      sent,
    });
  }
  const body = artifactManifest(
    layers.map(({ file: _f, sent: _s, ...l }) => l),
    annotationsOf(bundle?.json, o.revision),
  );
  const { digest } = await client.putManifest(ref.tag, body);
  const signed =
    o.signKey && bundle
      ? await signArtifact(client, { mediaType: OCI_MANIFEST, digest, size: body.length }, bundle, layers, {
          key: o.signKey,
          revision: o.revision,
        })
      : undefined;
  return { reference: formatReference(ref), digest, layers, ...(signed ? { signed } : {}) };
}
