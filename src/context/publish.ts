// push and pull as the context runs them: the registry client's options (plain HTTP,
// logins, the request deadline) from the configuration, limits for reading the bundle.
import { configOf, type Session } from "./session.js";
import { registryOptions } from "./resolve.js";
import { parseReference } from "../registry/reference.js";
import type { PushResult } from "../publish/push.js";
import type { PullResult } from "../publish/pull.js";

export async function runPush(
  s: Session,
  files: string[],
  refText: string,
  o: { revision?: string; mountFrom?: string; onLayer: (title: string, sent: string) => void },
): Promise<PushResult> {
  const config = configOf(s);
  const ref = parseReference(refText, "push");
  if (o.mountFrom) parseReference(`${ref.registry}/${o.mountFrom}`, "--mount-from"); // a repository name, or exit 2
  const { push } = await import("../publish/push.js");
  return push(files, ref, {
    ...registryOptions(config, s.env, ref, s.log),
    limits: config.limits,
    ...(o.revision ? { revision: o.revision } : {}),
    ...(o.mountFrom ? { mountFrom: o.mountFrom } : {}),
    onLayer: o.onLayer,
  });
}

export async function runPull(
  s: Session,
  refText: string,
  o: { onLayer: (title: string, size: number) => void },
): Promise<PullResult> {
  const config = configOf(s);
  const ref = parseReference(refText, "pull");
  const { pull } = await import("../publish/pull.js");
  return pull(ref, config.values.out, { ...registryOptions(config, s.env, ref, s.log), onLayer: o.onLayer });
}
