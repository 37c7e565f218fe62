// Signed artifacts against a real registry (docker-registry on 127.0.0.1, which has no
// referrers API, so the sha256-<digest> tag fallback is what lists them): push --sign-key
// attaches an SBOM, a provenance statement and a cosign simple-signing signature; verify
// passes; OpenSSL checks the signature on its own; a forged signature, a swapped or damaged
// SBOM, a damaged layer, an unsigned artifact and another key all fail verify and pull
// --verify-key, which then writes nothing; the key never appears in anything printed.
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registryClient, type RegistryClient } from "../../src/registry/client.js";
import { parseReference } from "../../src/registry/reference.js";
import { attachReferrer, listReferrers } from "../../src/publish/referrers.js";
import { proxyDispatcher } from "../../src/net/download.js";
import { buildOnFixtures, mkbundleIn, type CliResult } from "../helpers/cli.js";
import { startRegistry, type Registry } from "../helpers/registry.js";
import { q, sh } from "../helpers/run.js";
import { tempDir } from "../helpers/tmp.js";
import { SPDX_2_3 } from "../helpers/spdx-2.3.js";
import { Ajv } from "ajv";

const { dir, write } = tempDir("mkbundle-signed-");
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const MARKER = "mkbundle-test-key-marker-0b5e";

let registry: Registry;
let files: { bundle: string; iso: string; lock: string };
let key: string;
let pub: string;
let otherPub: string;
let keyBody: string;

const client = (repo: string): RegistryClient =>
  registryClient(parseReference(`${registry.host}/${repo}:x`, "test"), {
    plainHttp: true,
    credentials: { authFiles: [] },
    dispatcher: proxyDispatcher({ httpProxy: "", httpsProxy: "", noProxy: "" }),
  });
const run = (...args: string[]): Promise<CliResult> => mkbundleIn([...args, "--plain-http"]);
const push = (repo: string, ...more: string[]) =>
  run("push", "--sign-key", key, files.bundle, files.iso, files.lock, `${registry.host}/${repo}:1.0.0`, ...more);
const verify = (repo: string, k = pub) => run("verify", `${registry.host}/${repo}:1.0.0`, "--key", k);
/** pull --verify-key into a fresh directory: its result and what the directory then holds. */
async function pullVerified(repo: string, k = pub): Promise<CliResult & { written: string[] }> {
  const out = join(dir, `pull-${repo.replace(/\W/g, "-")}-${Math.random().toString(36).slice(2)}`);
  const r = await run("pull", "--verify-key", k, `${registry.host}/${repo}:1.0.0`, "--out", out);
  return { ...r, written: existsSync(out) ? readdirSync(out) : [] };
}
const manifestDigest = (r: CliResult) => /@(sha256:[0-9a-f]{64})$/m.exec(r.stdout)![1]!;

beforeAll(async () => {
  registry = await startRegistry(join(dir, "registry"));
  const manifest = write(
    "m/signed.yaml",
    "name: signed\nversion: 1.0.0\nbase:\n  release: 4.x\n  iso: Core-4.4.iso\nextensions:\n  builtin: [bash]\nfiles:\n  - path: /etc/motd\n    content: signed\n",
  );
  const out = join(dir, "out");
  const r = await buildOnFixtures(manifest, { workDir: join(dir, "wd"), out });
  expect(r.code, r.stderr).toBe(0);
  files = { bundle: join(out, "signed-bundle-dev.tar.gz"), iso: r.stdout.trim(), lock: join(dir, "m/signed.lock") };
  // A PEM key with explanatory text around it (allowed by RFC 7468): the marker must never be printed.
  sh(`openssl ecparam -name prime256v1 -genkey -noout | openssl pkcs8 -topk8 -nocrypt -out ${q(join(dir, "k.pem"))}`);
  keyBody = readFileSync(join(dir, "k.pem"), "utf8");
  key = write("key.pem", `${MARKER}\n${keyBody}`);
  pub = join(dir, "key.pub");
  sh(`openssl ec -in ${q(join(dir, "k.pem"))} -pubout -out ${q(pub)} 2>/dev/null`);
  otherPub = join(dir, "other.pub");
  sh(`openssl ecparam -name prime256v1 -genkey -noout | openssl ec -pubout -out ${q(otherPub)} 2>/dev/null`);
}, 120_000);

afterAll(async () => {
  await registry?.stop();
});

describe("push --sign-key, verify", () => {
  it("attaches signature, SBOM and provenance as referrers; verify and OpenSSL accept the signature", async () => {
    const pushed = await push("team/signed", "-v", "--revision", "abc123");
    expect(pushed.code, pushed.stderr).toBe(0);
    const digest = manifestDigest(pushed);
    // docker-registry has no referrers API: the fallback tag's index lists the three.
    const c = client("team/signed");
    expect(await c.referrers(digest)).toBeUndefined();
    const referrers = await listReferrers(c, digest);
    expect(referrers.map((d) => d.artifactType).sort()).toEqual([
      "application/spdx+json",
      "application/vnd.dev.cosign.artifact.sig.v1+json",
      "application/vnd.in-toto+json",
    ]);
    const index = JSON.parse(
      sh(
        `skopeo inspect --raw --tls-verify=false docker://${registry.host}/team/signed:${digest.replace(":", "-")}`,
      ).toString(),
    ) as { mediaType: string; manifests: { digest: string }[] };
    expect(index.mediaType).toBe("application/vnd.oci.image.index.v1+json");
    expect(index.manifests.map((m) => m.digest).sort()).toEqual(referrers.map((d) => d.digest).sort());

    // The signature checked by OpenSSL alone: the payload blob, the DER signature from the annotation.
    const sig = referrers.find((d) => d.artifactType!.includes("cosign"))!;
    const sigManifest = JSON.parse((await c.getManifest(sig.digest)).body.toString()) as {
      subject: { digest: string };
      layers: { digest: string; mediaType: string; annotations: Record<string, string> }[];
    };
    expect(sigManifest.subject.digest).toBe(digest);
    expect(sigManifest.layers[0]!.mediaType).toBe("application/vnd.dev.cosign.simplesigning.v1+json");
    const payloadFile = join(dir, "payload.json");
    await c.fetchBlob(sigManifest.layers[0]!.digest, payloadFile, 65536);
    const payload = JSON.parse(readFileSync(payloadFile, "utf8")) as {
      critical: { identity: Record<string, string>; image: Record<string, string>; type: string };
      optional: Record<string, string>;
    };
    expect(payload.critical).toEqual({
      identity: { "docker-reference": `${registry.host}/team/signed` },
      image: { "docker-manifest-digest": digest },
      type: "cosign container image signature",
    });
    writeFileSync(
      join(dir, "sig.der"),
      Buffer.from(sigManifest.layers[0]!.annotations["dev.cosignproject.cosign/signature"]!, "base64"),
    );
    expect(
      sh(`openssl dgst -sha256 -verify ${q(pub)} -signature ${q(join(dir, "sig.der"))} ${q(payloadFile)}`).toString(),
    ).toContain("Verified OK");

    // The SBOM the payload names lists the pushed files; the provenance names the artifact and lock.
    /** The one layer of the referrer of a type, which the payload must name under `key`, as JSON. */
    const attached = async (type: string, key: string): Promise<unknown> => {
      const ref = referrers.find((d) => d.artifactType === type)!;
      const m = JSON.parse((await c.getManifest(ref.digest)).body.toString()) as { layers: { digest: string }[] };
      expect(payload.optional[key]).toBe(m.layers[0]!.digest);
      const file = join(dir, `${key}.json`);
      await c.fetchBlob(m.layers[0]!.digest, file, 1 << 24);
      return JSON.parse(readFileSync(file, "utf8"));
    };
    const sbom = (await attached("application/spdx+json", "io.mkbundle.sbom")) as {
      packages: { SPDXID: string; name: string; checksums: { algorithm: string; checksumValue: string }[] }[];
    };
    const spdx = new Ajv({ strict: false, allErrors: true }).compile(SPDX_2_3);
    expect(spdx(sbom), JSON.stringify(spdx.errors?.slice(0, 5))).toBe(true);
    const pushedPackages = sbom.packages.filter((p) => p.SPDXID.startsWith("SPDXRef-Pushed-"));
    expect(pushedPackages.map((p) => [p.name, p.checksums[0]!.checksumValue])).toEqual(
      [files.bundle, files.iso, files.lock].map((f) => [f.split("/").pop(), sha(readFileSync(f))]),
    );
    const prov = (await attached("application/vnd.in-toto+json", "io.mkbundle.provenance")) as {
      subject: { name: string; digest: { sha256: string } }[];
      predicateType: string;
      predicate: {
        buildDefinition: { externalParameters: { revision: string; lock: unknown; manifest: { name: string } } };
        runDetails: { builder: { version: { mkbundle: string } } };
      };
    };
    expect(prov.predicateType).toBe("https://slsa.dev/provenance/v1");
    expect(prov.subject[0]).toEqual({ name: `${registry.host}/team/signed`, digest: { sha256: digest.slice(7) } });
    expect(prov.predicate.buildDefinition.externalParameters).toMatchObject({
      revision: "abc123",
      manifest: { name: "signed" },
    });
    expect(JSON.stringify(prov.predicate.buildDefinition.externalParameters.lock)).toMatch(
      /^\{"digest":\{"sha256":"[0-9a-f]{64}"\}\}$/,
    );
    expect(prov.predicate.runDetails.builder.version.mkbundle).toMatch(/^\d+\.\d+\.\d+/);

    const v = await verify("team/signed");
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout).toContain(`${digest}: signed by the key, 3 layers, SBOM and provenance verified`);
    const pulled = await pullVerified("team/signed");
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(pulled.written.sort()).toEqual(["signed-bundle-dev.tar.gz", "signed-dev-1.0.0.iso", "signed.lock"]);

    // The key is in nothing printed and nothing pushed.
    const secret = keyBody.split("\n")[1]!;
    for (const r of [pushed, v, pulled]) {
      expect(r.stdout + r.stderr).not.toContain(MARKER);
      expect(r.stdout + r.stderr).not.toContain(secret);
    }
    const stored = readdirSync(registry.data, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
    expect(stored.length).toBeGreaterThan(10);
    for (const e of stored) {
      const bytes = readFileSync(join(e.parentPath, e.name));
      expect(bytes.includes(MARKER)).toBe(false);
      expect(bytes.includes(secret)).toBe(false);
      expect(bytes.includes(Buffer.from(secret, "base64"))).toBe(false);
    }
  }, 120_000);

  it("an unsigned artifact and another signer's key are refused, and pull writes nothing", async () => {
    expect((await run("push", files.lock, `${registry.host}/team/unsigned:1.0.0`)).code).toBe(0);
    const v = await verify("team/unsigned");
    expect(v.code).toBe(1);
    expect(v.stderr).toMatch(/team\/unsigned:1\.0\.0: it is not signed \(no signature among its referrers\)/);
    const p = await pullVerified("team/unsigned");
    expect([p.code, p.written]).toEqual([1, []]);
    const other = await verify("team/signed", otherPub);
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/none of its 1 signature is by this key over this artifact's digest/);
    expect((await pullVerified("team/signed", otherPub)).written).toEqual([]);
  }, 60_000);
});

describe("tampering", () => {
  it("a forged signature (an attacker's referrer replacing the index) fails verify and pull", async () => {
    const pushed = await push("team/forged");
    const digest = manifestDigest(pushed);
    const c = client("team/forged");
    const sig = (await listReferrers(c, digest)).find((d) => d.artifactType!.includes("cosign"))!;
    const m = JSON.parse((await c.getManifest(sig.digest)).body.toString()) as {
      layers: { digest: string; size: number; annotations: Record<string, string> }[];
      subject: { mediaType: string; digest: string; size: number };
    };
    const payloadFile = join(dir, "forged-payload");
    await c.fetchBlob(m.layers[0]!.digest, payloadFile, 65536);
    const good = Buffer.from(m.layers[0]!.annotations["dev.cosignproject.cosign/signature"]!, "base64");
    good[good.length - 3] = good[good.length - 3]! ^ 0x01; // one bit of the signature
    // The attacker can push, not sign: the fallback index now lists only the forged signature.
    await c.putManifest(
      digest.replace(":", "-"),
      Buffer.from(
        JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests: [] }),
      ),
      "application/vnd.oci.image.index.v1+json",
    );
    await attachReferrer(
      c,
      m.subject,
      "application/vnd.dev.cosign.artifact.sig.v1+json",
      {
        mediaType: "application/vnd.dev.cosign.simplesigning.v1+json",
        data: readFileSync(payloadFile),
        annotations: { "dev.cosignproject.cosign/signature": good.toString("base64") },
      },
      {},
    );
    const v = await verify("team/forged");
    expect(v.code).toBe(1);
    expect(v.stderr).toMatch(/none of its 1 signature is by this key/);
    expect((await pullVerified("team/forged")).written).toEqual([]);
  }, 60_000);

  it("a damaged SBOM blob, a swapped SBOM and a damaged layer each fail verify; pull writes nothing", async () => {
    const pushed = await push("team/tamper");
    const digest = manifestDigest(pushed);
    const c = client("team/tamper");
    const referrers = await listReferrers(c, digest);
    const sbomRef = referrers.find((d) => d.artifactType === "application/spdx+json")!;
    const sbomManifest = JSON.parse((await c.getManifest(sbomRef.digest)).body.toString()) as {
      layers: { digest: string }[];
      subject: { mediaType: string; digest: string; size: number };
    };
    // 1. The SBOM's bytes changed in the registry's storage.
    const blob = registry.blobPath(sbomManifest.layers[0]!.digest);
    const original = readFileSync(blob);
    writeFileSync(
      blob,
      Buffer.from(original.toString().replace("signed-bundle-dev.tar.gz", "signed-bundle-dev.tar.gx")),
    );
    let v = await verify("team/tamper");
    expect(v.code).toBe(1);
    expect(v.stderr).toContain(`blob ${sbomManifest.layers[0]!.digest} has the wrong bytes`);
    expect((await pullVerified("team/tamper")).written).toEqual([]);
    writeFileSync(blob, original);

    // 2. Another SBOM attached (listed and consistent with itself), not the one signed.
    const sbom = JSON.parse(original.toString()) as { packages: { name: string }[] };
    sbom.packages = sbom.packages.filter((p) => p.name !== "bash.tcz");
    await c.putManifest(
      digest.replace(":", "-"),
      Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: "application/vnd.oci.image.index.v1+json",
          manifests: referrers.filter((d) => d.digest !== sbomRef.digest),
        }),
      ),
      "application/vnd.oci.image.index.v1+json",
    );
    await attachReferrer(
      c,
      sbomManifest.subject,
      "application/spdx+json",
      { mediaType: "application/spdx+json", data: Buffer.from(JSON.stringify(sbom)) },
      {},
    );
    v = await verify("team/tamper");
    expect(v.code).toBe(1);
    expect(v.stderr).toMatch(/the SBOM its signature names \(sha256:[0-9a-f]{64}\) is not attached to it/);
    expect((await pullVerified("team/tamper")).written).toEqual([]);

    // 3. Back to the signed SBOM; the ISO layer's bytes changed in storage.
    expect((await push("team/tamper")).code).toBe(0);
    expect((await verify("team/tamper")).code).toBe(0);
    const iso = registry.blobPath(`sha256:${sha(readFileSync(files.iso))}`);
    const isoBytes = readFileSync(iso);
    const damaged = Buffer.from(isoBytes);
    damaged[40000] = damaged[40000]! ^ 0xff;
    writeFileSync(iso, damaged);
    v = await verify("team/tamper");
    const p = await pullVerified("team/tamper");
    writeFileSync(iso, isoBytes); // shared by later tests
    expect(v.code).toBe(1);
    expect(v.stderr).toMatch(/blob sha256:[0-9a-f]{64} has the wrong bytes/);
    expect([p.code, p.written]).toEqual([1, []]);
  }, 120_000);
});

describe("keys", () => {
  it("an RSA key, an encrypted key without its passphrase and a private key given to verify are one-line errors", async () => {
    sh(`openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out ${q(join(dir, "rsa.pem"))} 2>/dev/null`);
    let r = await run("push", "--sign-key", join(dir, "rsa.pem"), files.bundle, `${registry.host}/team/k:1`);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(/rsa\.pem is a rsa key, not ECDSA P-256 \(give an ECDSA P-256 key in PEM/);
    sh(
      `openssl pkcs8 -topk8 -in ${q(join(dir, "k.pem"))} -passout pass:sekret -out ${q(join(dir, "enc.pem"))} 2>/dev/null`,
    );
    r = await run("push", "--sign-key", join(dir, "enc.pem"), files.bundle, `${registry.host}/team/k:1`);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/enc\.pem is encrypted and MKBUNDLE_SIGN_KEY_PASSWORD is not set/);
    const opened = await mkbundleIn(
      [
        "push",
        "--sign-key",
        join(dir, "enc.pem"),
        files.bundle,
        files.iso,
        `${registry.host}/team/enc:1.0.0`,
        "--plain-http",
      ],
      { env: { MKBUNDLE_SIGN_KEY_PASSWORD: "sekret" } },
    );
    expect(opened.code, opened.stderr).toBe(0);
    expect((await verify("team/enc")).code).toBe(0);
    r = await run("verify", `${registry.host}/team/signed:1.0.0`, "--key", key);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/is a private key; verifying takes the public one/);
    expect(r.stderr).not.toContain(MARKER);
    r = await run("push", "--sign-key", key, files.lock, `${registry.host}/team/k:1`);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--sign-key needs the image's bundle among the files/);
  }, 60_000);
});
