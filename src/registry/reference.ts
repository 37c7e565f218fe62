// Image references as the OCI distribution spec names them: REGISTRY/REPOSITORY[:TAG][@DIGEST],
// e.g. 127.0.0.1:5000/team/razor-mk:0.9.0.1. The registry part is required (no implicit
// Docker Hub): a reference names exactly where bytes go.
import { MkError } from "../errors.js";

export interface Reference {
  /** host[:port] */
  registry: string;
  repository: string;
  tag?: string;
  digest?: string;
}

const REPOSITORY = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const DIGEST = /^sha256:[0-9a-f]{64}$/;
const HOST =
  /^(?:\[[0-9a-fA-F:]+\]|[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)*)(?::\d{1,5})?$/;

export function parseReference(text: string, what: string): Reference {
  const bad = (why: string) =>
    new MkError("usage", `${what} '${text}' is not a registry reference: ${why}`, {
      hint: "REGISTRY/REPOSITORY[:TAG], e.g. 127.0.0.1:5000/team/razor-mk:0.9.0.1",
    });
  if (text.length > 512) throw bad("longer than 512 characters");
  let rest = text;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw bad("the digest is not sha256:<64 hex digits>");
  }
  const slash = rest.indexOf("/");
  if (slash < 0) throw bad("no registry host before the repository");
  const registry = rest.slice(0, slash);
  if (!HOST.test(registry) || !(registry.includes(".") || registry.includes(":") || registry === "localhost"))
    throw bad(`'${registry}' is not a registry host (host:port, a domain, or localhost)`);
  const port = /:(\d+)$/.exec(registry)?.[1];
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) throw bad(`port ${port} is out of range`);
  let repository = rest.slice(slash + 1);
  let tag: string | undefined;
  const colon = repository.lastIndexOf(":");
  if (colon >= 0) {
    tag = repository.slice(colon + 1);
    repository = repository.slice(0, colon);
    if (!TAG.test(tag)) throw bad(`'${tag}' is not a tag (letters, digits, '_', '.', '-'; up to 128)`);
  }
  if (!REPOSITORY.test(repository))
    throw bad(`'${repository}' is not a repository name (lower-case letters, digits, separators '.', '_', '-', '/')`);
  return { registry, repository, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
}

export const formatReference = (r: Reference): string =>
  `${r.registry}/${r.repository}${r.tag ? `:${r.tag}` : ""}${r.digest ? `@${r.digest}` : ""}`;

/** True for registries on this machine, where --plain-http is what test registries need. */
export const isLoopback = (registry: string): boolean =>
  /^(?:127\.\d+\.\d+\.\d+|localhost|\[::1\])(?::\d+)?$/.test(registry);
