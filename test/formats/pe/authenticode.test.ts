// Authenticode against sbsigntool and OpenSSL: systemd-boot signed by us passes sbverify with
// the certificate and fails with another; signing a signed image replaces its signature (the
// same bytes as signing the original); OpenSSL reads the PKCS#7 and finds the certificate;
// hostile PE headers are one-line format errors; keys UEFI cannot use are refused by name.
import { execFileSync } from "node:child_process";
import { createPrivateKey, generateKeyPairSync } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FormatError, MkError } from "../../../src/errors.js";
import { children, integer, octetString, oid, readElement, sequence } from "../../../src/formats/der/der.js";
import { authenticodeDigest, signingKey, signPe } from "../../../src/formats/pe/authenticode.js";
import { tempDir } from "../../helpers/tmp.js";

const { dir } = tempDir("mkbundle-pe-");
const LOADER = readFileSync("/usr/lib/systemd/boot/efi/systemd-bootx64.efi");
const CERT = readFileSync("/usr/share/ovmf/PkKek-1-snakeoil.pem");
const KEY = createPrivateKey({
  key: readFileSync("/usr/share/ovmf/PkKek-1-snakeoil.key"),
  passphrase: "snakeoil",
}).export({
  type: "pkcs8",
  format: "pem",
});
const names = { key: "db.key", cert: "db.pem" };
const sbverify = (file: string, cert: string) => {
  try {
    execFileSync("sbverify", ["--cert", cert, file], { stdio: "pipe" });
    return true;
  } catch {
    return false;
  }
};

describe("Authenticode", () => {
  const k = signingKey(Buffer.from(KEY), CERT, names);
  const signed = signPe(LOADER, k, "systemd-bootx64.efi");
  const file = join(dir, "signed.efi");
  writeFileSync(file, signed);
  const cert = join(dir, "db.pem");
  writeFileSync(cert, CERT);

  it("sbverify accepts what we sign with the certificate, and refuses another certificate", () => {
    expect(sbverify(file, cert)).toBe(true);
    const other = join(dir, "other.pem");
    const otherKey = join(dir, "other.key");
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        otherKey,
        "-out",
        other,
        "-days",
        "1",
        "-subj",
        "/CN=other",
      ],
      {
        stdio: "pipe",
      },
    );
    expect(sbverify(file, other)).toBe(false);
  });

  it("re-signing replaces the signature; the digest skips checksum, directory entry and table", () => {
    expect(signPe(signed, k)).toEqual(signed);
    expect(authenticodeDigest(signed)).toEqual(authenticodeDigest(signPe(LOADER, k)));
    expect(signed.length % 8).toBe(0);
  });

  it("OpenSSL reads the signature as PKCS#7 SignedData with the certificate in it", () => {
    const pe = signed.readUInt32LE(0x3c);
    const magic = signed.readUInt16LE(pe + 24);
    const dirAt = pe + 24 + (magic === 0x20b ? 112 : 96) + 4 * 8;
    const [offset, size] = [signed.readUInt32LE(dirAt), signed.readUInt32LE(dirAt + 4)];
    expect(offset + size).toBe(signed.length);
    expect(signed.readUInt16LE(offset + 4)).toBe(0x0200);
    expect(signed.readUInt16LE(offset + 6)).toBe(0x0002);
    const der = join(dir, "sig.der");
    writeFileSync(der, signed.subarray(offset + 8, offset + signed.readUInt32LE(offset)));
    const certs = execFileSync("openssl", ["pkcs7", "-inform", "DER", "-in", der, "-print_certs", "-noout"], {
      stdio: "pipe",
    }).toString();
    expect(certs).toContain("O = SnakeOil");
  });

  const damaged = (change: (b: Buffer) => Buffer): Buffer => change(Buffer.from(LOADER));
  it.each([
    ["not a PE image (no MZ header)", damaged((b) => b.fill(0, 0, 2))],
    ["no PE signature", damaged((b) => (b.writeUInt32LE(0x7ffffff0, 0x3c), b))],
    ["section 0's data lies outside the file", damaged((b) => b.subarray(0, 5000))],
    ["a Certificate Table that is not at the end of the file", damaged(() => Buffer.concat([signed, Buffer.alloc(8)]))],
  ])("a damaged image: %s", (why, bytes) => {
    expect(() => signPe(bytes, k, "bad.efi")).toThrow(FormatError);
    expect(() => signPe(bytes, k, "bad.efi")).toThrow(`pe: bad.efi: ${why}`);
  });

  it("refuses keys UEFI cannot use, naming the files", () => {
    const ec = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ type: "pkcs8", format: "pem" });
    expect(() => signingKey(Buffer.from(ec), CERT, names)).toThrow(/db\.key is a ec key; UEFI firmware checks RSA/);
    expect(() => signingKey(Buffer.from("nope"), CERT, names)).toThrow(MkError);
    expect(() => signingKey(Buffer.from(KEY), Buffer.from("nope"), names)).toThrow(
      /db\.pem is not an X\.509 certificate/,
    );
    const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs8", format: "pem" });
    expect(() => signingKey(Buffer.from(rsa), CERT, names)).toThrow(
      /db\.pem is not the certificate of the key db\.key/,
    );
  });
});

describe("DER reading", () => {
  it.each([
    ["truncated at byte 0", Buffer.from([0x30])],
    ["a bad length at byte 0", Buffer.from([0x30, 0x85, 1, 2, 3, 4, 5])],
    ["an element of 4294967295 bytes at byte 0 runs past the end", Buffer.from([0x30, 0x84, 0xff, 0xff, 0xff, 0xff])],
    ["an element of 3 bytes at byte 0 runs past the end", Buffer.from([0x30, 0x03, 0x02, 0x01])],
  ])("%s", (why, bytes) => {
    expect(() => children(readElement(bytes, 0, "cert"))).toThrow(`der: cert: ${why}`);
  });

  it("reads what it writes", () => {
    const b = sequence(integer(1), oid("1.2.840.113549.1.7.2"), octetString(Buffer.alloc(300, 7)));
    const parts = children(readElement(b));
    expect(parts.map((p) => p.tag)).toEqual([0x02, 0x06, 0x04]);
    expect(parts[2]!.body).toEqual(Buffer.alloc(300, 7));
    expect(oid("1.2.840.113549.1.7.2").toString("hex")).toBe("06092a864886f70d010702");
  });
});
