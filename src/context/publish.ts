// push, pull and verify as the context runs them: the registry client's options (plain HTTP,
// logins, the request deadline) from the configuration, limits for reading the bundle.
import { configOf, type Session } from "./session.js";
import { registryOptions } from "./resolve.js";
import { formatReference, parseReference } from "../registry/reference.js";
import { MkError } from "../errors.js";
import type { VerifyResult } from "../publish/verify.js";
import type { PushResult } from "../publish/push.js";
import type { PullResult } from "../publish/pull.js";

export async function runPush(
  s: Session,
  files: string[],
  refText: string,
  o: { revision?: string; mountFrom?: string; signKey?: string; onLayer: (title: string, sent: string) => void },
): Promise<PushResult> {
  const config = configOf(s);
  const ref = parseReference(refText, "push");
  if (o.mountFrom) parseReference(`${ref.registry}/${o.mountFrom}`, "--mount-from"); // a repository name, or exit 2
  const [{ push }, { readPrivateKey }] = await Promise.all([
    import("../publish/push.js"),
    import("../publish/signature.js"),
  ]);
  // The key is read (and refused) before anything is pushed.
  const signKey = o.signKey ? readPrivateKey(o.signKey, config.values.signKeyPassword) : undefined;
  return push(files, ref, {
    ...registryOptions(config, s.env, ref, s.log),
    limits: config.limits,
    ...(o.revision ? { revision: o.revision } : {}),
    ...(o.mountFrom ? { mountFrom: o.mountFrom } : {}),
    ...(signKey ? { signKey } : {}),
    onLayer: o.onLayer,
  });
}

export async function runVerify(
  s: Session,
  refText: string,
  keyFile: string,
  onStep: (what: string) => void,
): Promise<VerifyResult> {
  const config = configOf(s);
  const ref = parseReference(refText, "verify");
  const reference = ref.digest ?? ref.tag;
  if (!reference)
    throw new MkError("usage", `verify needs a tag or a digest: ${formatReference(ref)}`, {
      hint: "e.g. 127.0.0.1:5000/team/mk:0.9.0.1",
    });
  const [{ verifyArtifact }, { readPublicKey }, { registryClient }] = await Promise.all([
    import("../publish/verify.js"),
    import("../publish/signature.js"),
    import("../registry/client.js"),
  ]);
  const key = readPublicKey(keyFile);
  const client = registryClient(ref, registryOptions(config, s.env, ref, s.log));
  const manifest = await client.getManifest(reference);
  if (ref.digest && manifest.digest !== ref.digest)
    throw new MkError("verify", `${refText}: the registry sent a manifest whose digest is ${manifest.digest}`);
  return verifyArtifact(client, formatReference(ref), manifest, key, { fetchLayers: true, onStep });
}

export async function runPull(
  s: Session,
  refText: string,
  o: { onLayer: (title: string, size: number) => void; verifyKey?: string; onVerified: (what: string) => void },
): Promise<PullResult> {
  const config = configOf(s);
  const ref = parseReference(refText, "pull");
  const [{ pull }, { readPublicKey }] = await Promise.all([
    import("../publish/pull.js"),
    import("../publish/signature.js"),
  ]);
  const verifyKey = o.verifyKey ? readPublicKey(o.verifyKey) : undefined;
  return pull(ref, config.values.out, {
    ...registryOptions(config, s.env, ref, s.log),
    onLayer: o.onLayer,
    ...(verifyKey ? { verifyKey, onVerified: o.onVerified } : {}),
  });
}
