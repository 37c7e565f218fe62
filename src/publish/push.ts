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
import { registryClient, type ClientOptions } from "../registry/client.js";
import { formatReference, type Reference } from "../registry/reference.js";

export interface PushResult {
  reference: string;
  digest: string;
  layers: (Layer & { file: string; sent: "exists" | "mounted" | "uploaded" })[];
}

/** What the pushed image is, from the bundle among the files (name, flavour, version, base). */
async function annotationsOf(
  files: string[],
  revision: string | undefined,
  limits: ReadLimits,
): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const bundle = files.find((f) => BUNDLE_FILE.test(basename(f)));
  if (bundle) {
    const { json } = await readBundle(bundle, limits);
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
    await annotationsOf([...files], o.revision, o.limits),
  );
  const digest = await client.putManifest(ref.tag, body);
  return { reference: formatReference(ref), digest, layers };
}
