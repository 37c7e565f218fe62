// Where registry logins come from, in order: the environment, REGISTRY_AUTH_FILE, containers'
// auth.json, Docker's config.json; unreadable or hostile files are skipped, never fatal.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { findCredentials } from "../../src/registry/credentials.js";
import { resolveConfig } from "../../src/config/config.js";
import type { Env } from "../../src/config/environment.js";
import { credentialSources } from "../../src/context/resolve.js";

/** Where logins come from when the environment is `env` and the command names `registry`. */
const from = (env: Env, registry = "registry.example:5000") => credentialSources(resolveConfig({ env }), env, registry);
import { tempDir } from "../helpers/tmp.js";

const { dir } = tempDir("mkbundle-creds-");
const auth = (user: string, pw: string) => Buffer.from(`${user}:${pw}`).toString("base64");
const file = (rel: string, data: unknown) => {
  const p = join(dir, rel);
  mkdirSync(join(p, ".."), { recursive: true });
  writeFileSync(p, typeof data === "string" ? data : JSON.stringify(data));
  return p;
};

describe("registry credentials", () => {
  const host = "registry.example:5000";
  const docker = file("home/.docker/config.json", {
    auths: { [`https://${host}`]: { auth: auth("docker-user", "d:pw") } },
  });
  const podman = file("run/containers/auth.json", { auths: { [host]: { username: "podman-user", password: "p" } } });
  const given = file("given.json", { auths: { [host]: { auth: auth("file-user", "f") } } });

  it("takes the first place that has the registry, and keeps a ':' in the password", () => {
    const env = { HOME: join(dir, "home"), XDG_RUNTIME_DIR: join(dir, "run"), REGISTRY_AUTH_FILE: given };
    expect(
      findCredentials(host, from({ ...env, MKBUNDLE_REGISTRY_USERNAME: "env", MKBUNDLE_REGISTRY_PASSWORD: "e" })),
    ).toMatchObject({ username: "env", password: "e" });
    expect(findCredentials(host, from(env))).toMatchObject({ username: "file-user", from: given });
    expect(findCredentials(host, from({ ...env, REGISTRY_AUTH_FILE: undefined }))).toMatchObject({
      username: "podman-user",
      from: podman,
    });
    expect(findCredentials(host, from({ HOME: join(dir, "home") }))).toEqual({
      username: "docker-user",
      password: "d:pw",
      from: docker,
    });
    expect(findCredentials("other.example", from(env))).toBeUndefined();
  });

  it("gives the environment's login only to its one registry: the one named, or MKBUNDLE_REGISTRY_HOST", () => {
    const login = { MKBUNDLE_REGISTRY_USERNAME: "env", MKBUNDLE_REGISTRY_PASSWORD: "e", HOME: join(dir, "nowhere") };
    // A command naming the cache registry: the login is for it, and for nothing else.
    expect(findCredentials(host, from(login, host))).toMatchObject({ username: "env" });
    expect(findCredentials("evil.example", from(login, host))).toBeUndefined();
    // MKBUNDLE_REGISTRY_HOST pins it, whatever the command names.
    const pinned = { ...login, MKBUNDLE_REGISTRY_HOST: host };
    expect(findCredentials("evil.example", from(pinned, "evil.example"))).toBeUndefined();
    expect(findCredentials(host.toUpperCase(), from(pinned, "evil.example"))).toMatchObject({ username: "env" });
    // Auth-file entries are per host.
    expect(findCredentials("evil.example", from({ HOME: join(dir, "home") }, "evil.example"))).toBeUndefined();
  });

  it("skips files that are not JSON, too large, or shaped wrongly", () => {
    const junk = file("junk.json", "{not json");
    const big = file("big.json", `{"auths":{},"pad":"${"x".repeat(1024 * 1024)}"}`);
    const odd = file("odd.json", { auths: { [host]: { auth: 42 } } });
    for (const f of [junk, big, odd])
      expect(findCredentials(host, from({ REGISTRY_AUTH_FILE: f, HOME: join(dir, "none") }))).toBeUndefined();
  });
});
