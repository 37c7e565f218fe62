// The readers of what a registry sends for signed artifacts (referrer indexes and manifests,
// simple-signing payloads, signatures, provenance statements), given malformed and hostile
// input: each answers with a clear error or "not one", never a crash; and the signing
// functions agree with OpenSSL's notion of an ECDSA P-256 signature.
import { generateKeyPairSync } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createServer } from "node:http";
import { attachReferrer, indexDescriptors, listReferrers, referrerManifest } from "../../src/publish/referrers.js";
import { registryClient } from "../../src/registry/client.js";
import { parseReference } from "../../src/registry/reference.js";
import { proxyDispatcher } from "../../src/net/download.js";
import {
  parsePayload,
  publicOf,
  readPrivateKey,
  readPublicKey,
  signatureValid,
  signPayload,
  simpleSigningPayload,
} from "../../src/publish/signature.js";
import { provenanceSubjects } from "../../src/publish/provenance.js";
import { MkError } from "../../src/errors.js";
import { q, sh } from "../helpers/run.js";
import { tempDir } from "../helpers/tmp.js";

const { dir } = tempDir("mkbundle-sig-");
const D = `sha256:${"a".repeat(64)}`;
const formatError = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(MkError);
    expect((e as MkError).code).toBe("format");
    return (e as Error).message;
  }
  throw new Error("no error");
};

describe("referrer indexes and manifests a registry sends", () => {
  const index = { schemaVersion: 2, manifests: [{ mediaType: "m", digest: D, size: 10, artifactType: "t" }] };
  it("reads a well-formed index, and skips descriptors without a sha256 digest or a size", () => {
    expect(indexDescriptors(Buffer.from(JSON.stringify(index)), "x")).toEqual(index.manifests);
    const odd = {
      schemaVersion: 2,
      manifests: [null, 7, { digest: "sha256:../../x", size: 1 }, { digest: D, size: -1 }],
    };
    expect(indexDescriptors(Buffer.from(JSON.stringify(odd)), "x")).toEqual([]);
  });
  it("refuses truncation, the wrong shape and too many entries", () => {
    const text = JSON.stringify(index);
    for (let n = 0; n < text.length; n += 7)
      expect(formatError(() => indexDescriptors(Buffer.from(text.slice(0, n)), "idx"))).toMatch(/^idx: /);
    expect(formatError(() => indexDescriptors(Buffer.from('{"schemaVersion":2}'), "idx"))).toContain(
      "not an OCI image index",
    );
    const huge = { schemaVersion: 2, manifests: Array.from({ length: 1001 }, () => index.manifests[0]) };
    expect(formatError(() => indexDescriptors(Buffer.from(JSON.stringify(huge)), "idx"))).toContain(
      "it lists 1001 manifests; at most 1000 are read",
    );
  });
  it("a referrer manifest needs exactly one layer with a digest and size, and a subject", () => {
    const good = { schemaVersion: 2, layers: [{ mediaType: "p", digest: D, size: 3 }], subject: { digest: D } };
    expect(referrerManifest(Buffer.from(JSON.stringify(good)), "r")).toMatchObject({ subject: D, layer: { size: 3 } });
    for (const [bad, why] of [
      [{ ...good, layers: [] }, "exactly one layer"],
      [{ ...good, layers: [good.layers[0], good.layers[0]] }, "exactly one layer"],
      [{ ...good, layers: [{ digest: "md5:x", size: 1 }] }, "exactly one layer"],
      [{ ...good, layers: [{ digest: D, size: 1e300 }] }, "exactly one layer"],
      [{ ...good, subject: undefined }, "it has no subject"],
      [{ ...good, schemaVersion: 1 }, "not an OCI image manifest"],
    ] as const)
      expect(formatError(() => referrerManifest(Buffer.from(JSON.stringify(bad)), "r"))).toContain(why);
  });
});

describe("simple-signing payloads and signatures", () => {
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  const claims = { repository: "127.0.0.1:5000/team/x", manifestDigest: D, attached: { "io.mkbundle.sbom": D } };
  it("a payload reads back as the claims signed; malformed ones are not payloads", () => {
    const payload = simpleSigningPayload(claims);
    expect(parsePayload(payload)).toEqual(claims);
    for (const bad of [
      "",
      "{",
      "null",
      "[]",
      '{"critical":{}}',
      '{"critical":{"type":"cosign container image signature"}}',
    ])
      expect(parsePayload(Buffer.from(bad))).toBeUndefined();
    expect(parsePayload(Buffer.alloc(65537, 0x20))).toBeUndefined();
  });
  it("a signature verifies with the key's public half and no other; a flipped bit or junk does not", () => {
    const payload = simpleSigningPayload(claims);
    const sig = signPayload(payload, privateKey);
    expect(signatureValid(payload, sig, publicOf(privateKey))).toBe(true);
    const other = generateKeyPairSync("ec", { namedCurve: "prime256v1" }).publicKey;
    expect(signatureValid(payload, sig, other)).toBe(false);
    const flipped = Buffer.from(payload);
    flipped[10] = flipped[10]! ^ 1;
    expect(signatureValid(flipped, sig, publicOf(privateKey))).toBe(false);
    for (const junk of [undefined, 5, "", "!!!", "A".repeat(5000), Buffer.from("not der").toString("base64")])
      expect(signatureValid(payload, junk, publicOf(privateKey))).toBe(false);
  });
  it("OpenSSL verifies our signature, and we verify OpenSSL's", () => {
    const keyFile = join(dir, "k.pem");
    const pubFile = join(dir, "k.pub");
    sh(`openssl ecparam -name prime256v1 -genkey -noout -out ${q(keyFile)}`); // SEC1 "EC PRIVATE KEY"
    sh(`openssl ec -in ${q(keyFile)} -pubout -out ${q(pubFile)} 2>/dev/null`);
    const payload = simpleSigningPayload(claims);
    writeFileSync(join(dir, "payload"), payload);
    writeFileSync(
      join(dir, "ours.der"),
      Buffer.from(signPayload(payload, readPrivateKey(keyFile, undefined)), "base64"),
    );
    expect(
      sh(
        `openssl dgst -sha256 -verify ${q(pubFile)} -signature ${q(join(dir, "ours.der"))} ${q(join(dir, "payload"))}`,
      ).toString(),
    ).toContain("Verified OK");
    const theirs = sh(`openssl dgst -sha256 -sign ${q(keyFile)} ${q(join(dir, "payload"))}`);
    expect(signatureValid(payload, theirs.toString("base64"), readPublicKey(pubFile))).toBe(true);
  });
  it("keys that are not ECDSA P-256 PEM are input errors naming the file", () => {
    const p384 = join(dir, "p384.pem");
    sh(`openssl ecparam -name secp384r1 -genkey -noout -out ${q(p384)}`);
    expect(() => readPrivateKey(p384, undefined)).toThrow(/p384\.pem is a ec secp384r1 key, not ECDSA P-256/);
    writeFileSync(join(dir, "junk.pem"), "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
    expect(() => readPrivateKey(join(dir, "junk.pem"), undefined)).toThrow(/junk\.pem is not a PEM private key/);
    expect(() => readPublicKey(join(dir, "junk.pem"))).toThrow(/is a private key; verifying takes the public one/);
    expect(() => readPublicKey(join(dir, "missing.pub"))).toThrow(/missing\.pub/);
    writeFileSync(
      join(dir, "cosign.key"),
      "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nx\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n",
    );
    expect(() => readPrivateKey(join(dir, "cosign.key"), undefined)).toThrow(/cosign's own encrypted format/);
  });
});

describe("provenance statements a registry sends", () => {
  it("reads subjects of an in-toto SLSA statement, and nothing else", () => {
    const s = {
      _type: "https://in-toto.io/Statement/v1",
      predicateType: "https://slsa.dev/provenance/v1",
      subject: [{ name: "a", digest: { sha256: "ab" } }, { name: 5 }, null],
    };
    expect(provenanceSubjects(Buffer.from(JSON.stringify(s)))).toEqual([{ name: "a", sha256: "ab" }]);
    for (const bad of [
      "",
      "{",
      "null",
      JSON.stringify({ ...s, predicateType: "x" }),
      JSON.stringify({ ...s, subject: {} }),
    ])
      expect(provenanceSubjects(Buffer.from(bad))).toBeUndefined();
  });
});

describe("a registry with the referrers API", () => {
  it("is asked through it, and a referrer it indexes (OCI-Subject) is not added to a fallback tag", async () => {
    const seen: string[] = [];
    const listed = { schemaVersion: 2, manifests: [{ mediaType: "m", digest: D, size: 1, artifactType: "t" }] };
    const server = createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      req.resume();
      req.on("end", () => {
        if (req.url?.includes("/referrers/")) return void res.writeHead(200).end(JSON.stringify(listed));
        if (req.method === "HEAD") return void res.writeHead(404).end();
        if (req.method === "POST") return void res.writeHead(202, { location: "/v2/team/x/blobs/uploads/1" }).end();
        if (req.method === "PUT" && req.url?.includes("/manifests/"))
          return void res.writeHead(201, { "oci-subject": D }).end();
        res.writeHead(201).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const host = `127.0.0.1:${(server.address() as { port: number }).port}`;
      const c = registryClient(parseReference(`${host}/team/x:1`, "t"), {
        plainHttp: true,
        credentials: { authFiles: [] },
        dispatcher: proxyDispatcher({ httpProxy: "", httpsProxy: "", noProxy: "" }),
        retries: 0,
      });
      expect(await listReferrers(c, D)).toEqual(listed.manifests);
      seen.length = 0;
      await attachReferrer(
        c,
        { mediaType: "m", digest: D, size: 1 },
        "t",
        { mediaType: "p", data: Buffer.from("x") },
        {},
      );
      expect(seen.filter((s) => s.startsWith("PUT /v2/team/x/manifests/"))).toHaveLength(1);
      expect(seen.some((s) => s.includes(`manifests/sha256-`))).toBe(false);
    } finally {
      server.close();
    }
  });
});
