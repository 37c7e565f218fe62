// Signatures on pushed artifacts, in cosign's "simple signing" format so that cosign-aware
// tools read them: a JSON payload naming the repository and the signed manifest's digest,
// signed with ECDSA P-256 over SHA-256 (an ASN.1 DER signature, base64 in the signature
// layer's annotation). The payload's `optional` also names the digests of the SBOM and the
// provenance pushed with it, so the one signature covers all three. Keys are PEM files read
// here and never printed: errors name the file and the reason only.
import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from "node:crypto";
import { MkError } from "../errors.js";
import { readKeyFile } from "../io/read-key-file.js";

export const SIGNATURE_ARTIFACT = "application/vnd.dev.cosign.artifact.sig.v1+json";
export const SIMPLE_SIGNING = "application/vnd.dev.cosign.simplesigning.v1+json";
export const SIGNATURE_ANNOTATION = "dev.cosignproject.cosign/signature";
const PAYLOAD_TYPE = "cosign container image signature";
const MAX_PAYLOAD = 64 * 1024;

export interface SignedClaims {
  /** REGISTRY/REPOSITORY the artifact was pushed to. */
  repository: string;
  /** The artifact's manifest digest. */
  manifestDigest: string;
  /** Digests of what was attached with it: io.mkbundle.sbom, io.mkbundle.provenance. */
  attached: Record<string, string>;
}

const P256 = "prime256v1";
const keyHint =
  "give an ECDSA P-256 key in PEM, e.g. made by: openssl ecparam -name prime256v1 -genkey -noout | openssl pkcs8 -topk8 -nocrypt -out key.pem";

function checkCurve(key: KeyObject, file: string, what: string): KeyObject {
  if (key.asymmetricKeyType !== "ec" || key.asymmetricKeyDetails?.namedCurve !== P256)
    throw new MkError(
      "input",
      `${what} ${file} is a ${key.asymmetricKeyType ?? "?"}${key.asymmetricKeyDetails?.namedCurve ? ` ${key.asymmetricKeyDetails.namedCurve}` : ""} key, not ECDSA P-256`,
      { hint: keyHint },
    );
  return key;
}

/** The private key of `push --sign-key`: PEM (PKCS#8 or SEC1), encrypted ones with MKBUNDLE_SIGN_KEY_PASSWORD. */
export function readPrivateKey(file: string, passphrase: string | undefined): KeyObject {
  const pem = readKeyFile(file, "the signing key");
  if (pem.includes("SIGSTORE PRIVATE KEY"))
    throw new MkError("input", `the signing key ${file} is in cosign's own encrypted format`, {
      hint: "export it as PEM (cosign import-key-pair reads PEM; openssl makes one), or make a new P-256 key",
    });
  try {
    return checkCurve(
      createPrivateKey({ key: pem, format: "pem", ...(passphrase ? { passphrase } : {}) }),
      file,
      "the signing key",
    );
  } catch (e) {
    if (e instanceof MkError) throw e;
    const encrypted = pem.includes("ENCRYPTED");
    throw new MkError(
      "input",
      encrypted
        ? `the signing key ${file} is encrypted and ${passphrase ? "MKBUNDLE_SIGN_KEY_PASSWORD does not open it" : "MKBUNDLE_SIGN_KEY_PASSWORD is not set"}`
        : `the signing key ${file} is not a PEM private key`,
      { hint: encrypted ? "set MKBUNDLE_SIGN_KEY_PASSWORD to its passphrase" : keyHint },
    );
  }
}

/** The public key of `verify --key` and `pull --verify-key` (PEM SPKI). */
export function readPublicKey(file: string): KeyObject {
  const pem = readKeyFile(file, "the public key");
  let key: KeyObject;
  try {
    if (pem.includes("PRIVATE KEY"))
      throw new MkError("input", `${file} is a private key; verifying takes the public one`, {
        hint: "openssl ec -in key.pem -pubout -out key.pub",
      });
    key = createPublicKey({ key: pem, format: "pem" });
  } catch (e) {
    if (e instanceof MkError) throw e;
    throw new MkError("input", `the public key ${file} is not a PEM public key`, {
      hint: "openssl ec -in key.pem -pubout -out key.pub",
    });
  }
  return checkCurve(key, file, "the public key");
}

/** The public key of a private one, to check a fresh signature before it is pushed. */
export const publicOf = (key: KeyObject): KeyObject => createPublicKey(key);

/** The payload signed (its bytes are what the signature covers, as they are pushed). */
export function simpleSigningPayload(c: SignedClaims): Buffer {
  return Buffer.from(
    JSON.stringify({
      critical: {
        identity: { "docker-reference": c.repository },
        image: { "docker-manifest-digest": c.manifestDigest },
        type: PAYLOAD_TYPE,
      },
      optional: c.attached,
    }),
  );
}

export const signPayload = (payload: Buffer, key: KeyObject): string =>
  sign("sha256", payload, { key, dsaEncoding: "der" }).toString("base64");

/** Whether the base64 DER signature is the key's over the payload (false for any malformed one). */
export function signatureValid(payload: Buffer, signatureB64: unknown, key: KeyObject): boolean {
  if (typeof signatureB64 !== "string" || signatureB64.length > 1024 || !/^[A-Za-z0-9+/]+={0,2}$/.test(signatureB64))
    return false;
  try {
    return verify("sha256", payload, { key, dsaEncoding: "der" }, Buffer.from(signatureB64, "base64"));
  } catch {
    return false;
  }
}

/** The claims of a payload a registry sent, checked for shape; undefined when it is not one. */
export function parsePayload(payload: Buffer): SignedClaims | undefined {
  if (payload.length > MAX_PAYLOAD) return undefined;
  let j: unknown;
  try {
    j = JSON.parse(payload.toString("utf8"));
  } catch {
    return undefined;
  }
  const c = (
    j as { critical?: { identity?: Record<string, unknown>; image?: Record<string, unknown>; type?: unknown } }
  )?.critical;
  const repository = c?.identity?.["docker-reference"];
  const manifestDigest = c?.image?.["docker-manifest-digest"];
  if (c?.type !== PAYLOAD_TYPE || typeof repository !== "string" || typeof manifestDigest !== "string")
    return undefined;
  const optional = (j as { optional?: unknown }).optional;
  const attached: Record<string, string> = {};
  if (optional && typeof optional === "object")
    for (const [k, v] of Object.entries(optional)) if (typeof v === "string") attached[k] = v;
  return { repository, manifestDigest, attached };
}
