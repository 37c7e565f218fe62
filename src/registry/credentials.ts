// Registry credentials, never printed: MKBUNDLE_REGISTRY_USERNAME/_PASSWORD, else the auth
// file of containers tools (REGISTRY_AUTH_FILE, $XDG_RUNTIME_DIR/containers/auth.json), else
// Docker's ($DOCKER_CONFIG/config.json, ~/.docker/config.json): `auths[host].auth` is
// base64 "user:password". Credential helpers (credsStore) are not run.
import { readFileSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

export interface Credentials {
  username: string;
  password: string;
  /** Where they came from, for messages (never the values). */
  from: string;
}

const MAX_AUTH_FILE = 1024 * 1024;

function fromFile(path: string, registry: string): Credentials | undefined {
  let data: unknown;
  try {
    if (statSync(path).size > MAX_AUTH_FILE) return undefined;
    data = JSON.parse(readFileSync(path, "utf8"));
  } catch {
    return undefined; // absent or unreadable: the next place is tried
  }
  const auths = (data as { auths?: Record<string, { auth?: unknown; username?: unknown; password?: unknown }> }).auths;
  if (!auths || typeof auths !== "object") return undefined;
  const entry = auths[registry] ?? auths[`https://${registry}`] ?? auths[`http://${registry}`];
  if (!entry) return undefined;
  if (typeof entry.auth === "string") {
    const text = Buffer.from(entry.auth, "base64").toString("utf8");
    const colon = text.indexOf(":");
    if (colon > 0) return { username: text.slice(0, colon), password: text.slice(colon + 1), from: path };
  }
  if (typeof entry.username === "string" && typeof entry.password === "string")
    return { username: entry.username, password: entry.password, from: path };
  return undefined;
}

/** Where logins may be found, as the configuration resolved them (config/). */
export interface CredentialSources {
  /**
   * MKBUNDLE_REGISTRY_USERNAME and MKBUNDLE_REGISTRY_PASSWORD, for one registry: `host`
   * (MKBUNDLE_REGISTRY_HOST, else the registry the command names). Never sent elsewhere.
   */
  login?: { username: string; password: string; host: string };
  /** Auth files in the order they are read: REGISTRY_AUTH_FILE, containers' auth.json, Docker's config.json. */
  authFiles: readonly string[];
}

/** The auth files containers tools and Docker keep, where the environment says they are. */
export function authFiles(env: {
  REGISTRY_AUTH_FILE?: string | undefined;
  XDG_RUNTIME_DIR?: string | undefined;
  DOCKER_CONFIG?: string | undefined;
  HOME?: string | undefined;
}): string[] {
  return [
    env.REGISTRY_AUTH_FILE,
    env.XDG_RUNTIME_DIR ? join(env.XDG_RUNTIME_DIR, "containers", "auth.json") : undefined,
    join(env.DOCKER_CONFIG ?? join(env.HOME ?? homedir(), ".docker"), "config.json"),
  ].filter((f): f is string => !!f);
}

/** One registry, however it is spelled: host[:port], case-insensitive. */
export const sameRegistry = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

/** The login for `registry` (host[:port]): the environment's when it is for that registry, else the first auth file's entry. */
export function findCredentials(registry: string, sources: CredentialSources): Credentials | undefined {
  const login = sources.login;
  if (login && sameRegistry(login.host, registry))
    return {
      username: login.username,
      password: login.password,
      from: "MKBUNDLE_REGISTRY_USERNAME/MKBUNDLE_REGISTRY_PASSWORD",
    };
  for (const f of sources.authFiles) {
    const c = fromFile(f, registry);
    if (c) return c;
  }
  return undefined;
}
