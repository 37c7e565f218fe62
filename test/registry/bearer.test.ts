// The Bearer token flow as GHCR, Docker Hub and Harbor run it, against a real HTTP server on
// 127.0.0.1 that plays a token-authenticated registry: a 401 with a Bearer challenge, a token
// realm that wants Basic credentials and names the scope, then the token on every request.
// Also the reference grammar and the challenge parser on hostile input.
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseChallenge } from "../../src/registry/challenge.js";
import { resolveConfig } from "../../src/config/config.js";
import { credentialSources } from "../../src/context/resolve.js";
import { registryClient } from "../../src/registry/client.js";
import { parseReference } from "../../src/registry/reference.js";
import { proxyDispatcher } from "../../src/net/download.js";

const DIRECT = proxyDispatcher({ httpProxy: "", httpsProxy: "", noProxy: "" });

const TOKEN = "tok-123";
let server: Server;
let host = "";
const seen: string[] = [];

const basicOk = (req: IncomingMessage) =>
  req.headers.authorization === `Basic ${Buffer.from("robot:secret").toString("base64")}`;

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", `http://${host}`);
    seen.push(`${req.method} ${url.pathname}${url.search} ${req.headers.authorization?.split(" ")[0] ?? "-"}`);
    if (url.pathname === "/token") {
      if (!basicOk(req)) return void res.writeHead(401).end();
      return void res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ token: TOKEN }));
    }
    if (req.headers.authorization !== `Bearer ${TOKEN}`) {
      res.writeHead(401, {
        "www-authenticate": `Bearer realm="http://${host}/token",service="test-registry",scope="repository:team/mk:pull"`,
      });
      return void res.end();
    }
    if (url.pathname === "/v2/team/mk/blobs/sha256:" + "0".repeat(64)) return void res.writeHead(200).end();
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe("Bearer tokens", () => {
  it("answers the challenge at the realm with Basic credentials and the scope, then sends the token", async () => {
    const env = { MKBUNDLE_REGISTRY_USERNAME: "robot", MKBUNDLE_REGISTRY_PASSWORD: "secret" };
    const client = registryClient(parseReference(`${host}/team/mk:1`, "test"), {
      plainHttp: true,
      dispatcher: DIRECT,
      credentials: credentialSources(resolveConfig({ env }), env, host),
    });
    expect(await client.hasBlob(`sha256:${"0".repeat(64)}`)).toBe(true);
    expect(await client.hasBlob(`sha256:${"1".repeat(64)}`)).toBe(false);
    expect(seen).toEqual([
      `HEAD /v2/team/mk/blobs/sha256:${"0".repeat(64)} -`,
      "GET /token?service=test-registry&scope=repository%3Ateam%2Fmk%3Apull Basic",
      `HEAD /v2/team/mk/blobs/sha256:${"0".repeat(64)} Bearer`,
      `HEAD /v2/team/mk/blobs/sha256:${"1".repeat(64)} Bearer`, // the token is kept
    ]);
  });

  it("a token realm that refuses the login is a refused login, naming the registry and the user", async () => {
    const env = { MKBUNDLE_REGISTRY_USERNAME: "robot", MKBUNDLE_REGISTRY_PASSWORD: "wrong" };
    const client = registryClient(parseReference(`${host}/team/mk:1`, "test"), {
      plainHttp: true,
      dispatcher: DIRECT,
      credentials: credentialSources(resolveConfig({ env }), env, host),
    });
    await expect(client.hasBlob(`sha256:${"0".repeat(64)}`)).rejects.toThrow(
      new RegExp(`registry ${host}: refused the login of user 'robot'`),
    );
  });
});

describe("a login goes to its registry and nowhere else", () => {
  /** A registry on 127.0.0.1 that answers every request with `challenge`, recording what it was sent. */
  const challenger = async (challenge: (self: string) => string) => {
    const got: string[] = [];
    let self = "";
    const s = createServer((req, res) => {
      got.push(`${req.method} ${req.url} ${req.headers.authorization ?? "-"}`);
      res.writeHead(401, { "www-authenticate": challenge(self) }).end();
    });
    await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
    self = `127.0.0.1:${(s.address() as AddressInfo).port}`;
    return { host: self, got, close: () => new Promise<void>((r) => s.close(() => r())) };
  };
  const login = { MKBUNDLE_REGISTRY_USERNAME: "robot", MKBUNDLE_REGISTRY_PASSWORD: "secret" };
  const clientFor = (target: string, env: Record<string, string>, named = target) =>
    registryClient(parseReference(`${target}/team/mk:1`, "test"), {
      plainHttp: true,
      dispatcher: DIRECT,
      credentials: credentialSources(resolveConfig({ env }), env, named),
    });

  it("a second registry that challenges for a login it was not given receives none", async () => {
    const other = await challenger(() => 'Basic realm="other"');
    try {
      // The login is for the registry the test server plays (MKBUNDLE_REGISTRY_HOST), not for this one.
      const env = { ...login, MKBUNDLE_REGISTRY_HOST: host };
      await expect(clientFor(other.host, env).hasBlob(`sha256:${"0".repeat(64)}`)).rejects.toThrow(
        new RegExp(`registry ${other.host}: asks for a login and none is set`),
      );
      expect(other.got).toEqual([`HEAD /v2/team/mk/blobs/sha256:${"0".repeat(64)} -`]);
      // And the registry it is for still gets it.
      expect(await clientFor(host, env).hasBlob(`sha256:${"0".repeat(64)}`)).toBe(true);
    } finally {
      await other.close();
    }
  });

  it("a token realm in plain HTTP on another host never sees the login", async () => {
    const realm = await challenger(() => 'Basic realm="x"');
    const registry = await challenger(() => `Bearer realm="http://${realm.host}/token",service="s"`);
    try {
      await expect(clientFor(registry.host, login).hasBlob(`sha256:${"0".repeat(64)}`)).rejects.toThrow(
        new RegExp(`token realm http://${realm.host}/token is plain HTTP on another host: the login is not sent there`),
      );
      expect(realm.got).toEqual([]);
      // Without a login, asking that realm for an anonymous token is harmless.
      await expect(clientFor(registry.host, {}).hasBlob(`sha256:${"0".repeat(64)}`)).rejects.toThrow(
        /asks for a login and none is set/,
      );
      expect(realm.got).toEqual([`GET /token?service=s&scope=repository%3Ateam%2Fmk%3Apull -`]);
    } finally {
      await Promise.all([realm.close(), registry.close()]);
    }
  });
});

describe("references and challenges", () => {
  it("parses what registries name, refuses what they do not", () => {
    expect(parseReference("127.0.0.1:5000/team/razor-mk:0.9.0.1", "r")).toEqual({
      registry: "127.0.0.1:5000",
      repository: "team/razor-mk",
      tag: "0.9.0.1",
    });
    expect(parseReference(`ghcr.io/org/mk@sha256:${"a".repeat(64)}`, "r").digest).toBe(`sha256:${"a".repeat(64)}`);
    for (const [bad, why] of [
      ["razor-mk:1", /no registry host/],
      ["team/mk:1", /'team' is not a registry host/],
      ["127.0.0.1:99999/a:1", /port 99999 is out of range/],
      ["127.0.0.1:5000/Team/mk:1", /not a repository name/],
      ["127.0.0.1:5000/a/../b:1", /not a repository name/],
      ["127.0.0.1:5000/a:bad/tag", /not a repository name|not a tag/],
      ["127.0.0.1:5000/a@sha256:xyz", /the digest is not/],
    ] as const)
      expect(() => parseReference(bad, "--cache-registry"), bad).toThrow(why);
  });

  it("challenges: quoted values with commas and escapes; garbage and huge headers are no challenge", () => {
    expect(
      parseChallenge('Bearer realm="https://auth.example/token",service="reg",scope="repository:a/b:pull,push"'),
    ).toEqual({
      scheme: "bearer",
      params: { realm: "https://auth.example/token", service: "reg", scope: "repository:a/b:pull,push" },
    });
    expect(parseChallenge('Basic realm="x \\"y\\""')).toEqual({ scheme: "basic", params: { realm: 'x "y"' } });
    expect(parseChallenge("Negotiate abc")).toBeUndefined();
    expect(parseChallenge(`Bearer realm="${"a".repeat(5000)}"`)).toBeUndefined();
  });
});
