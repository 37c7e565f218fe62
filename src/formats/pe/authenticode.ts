// Authenticode for UEFI Secure Boot: a PE/COFF image (an EFI loader, an EFI stub kernel)
// signed as firmware checks it. The image hash is SHA-256 over the file less the checksum, the
// Certificate Table's directory entry and the table itself, with the sections in file order
// (Microsoft's "Windows Authenticode Portable Executable Signature Format"); the signature is
// a PKCS#7 SignedData whose content is an SpcIndirectDataContent holding that hash, signed
// (RSA, SHA-256) over its authenticated attributes; it is appended, 8-byte aligned, as a
// WIN_CERTIFICATE the Certificate Table points at. A signature already there is replaced.
import { createHash, createPrivateKey, sign, X509Certificate, type KeyObject } from "node:crypto";
import { FormatError, MkError } from "../../errors.js";
import {
  algorithm,
  children,
  integer,
  octetString,
  oid,
  readElement,
  sequence,
  setOf,
  tagged,
  tlv,
} from "../der/der.js";

const OID = {
  signedData: "1.2.840.113549.1.7.2",
  sha256: "2.16.840.1.101.3.4.2.1",
  rsaEncryption: "1.2.840.113549.1.1.1",
  contentType: "1.2.840.113549.1.9.3",
  messageDigest: "1.2.840.113549.1.9.4",
  spcIndirectData: "1.3.6.1.4.1.311.2.1.4",
  spcPeImageData: "1.3.6.1.4.1.311.2.1.15",
  spcSpOpusInfo: "1.3.6.1.4.1.311.2.1.12",
};

const WIN_CERT_REVISION_2_0 = 0x0200;
const WIN_CERT_TYPE_PKCS_SIGNED_DATA = 0x0002;

/** Where the parts of a PE image are that the Authenticode hash skips or walks. */
interface PeLayout {
  checksumAt: number;
  /** The Certificate Table's entry (offset, size) among the data directories. */
  certDirAt: number;
  headersEnd: number;
  /** Raw data of each section, in file order. */
  sections: { start: number; end: number }[];
  /** The current Certificate Table (offset 0 when unsigned). */
  cert: { offset: number; size: number };
}

function layout(pe: Buffer, name: string): PeLayout {
  const bad = (why: string) => new FormatError("pe", `${name}: ${why}`);
  if (pe.length < 0x40 || pe.toString("latin1", 0, 2) !== "MZ") throw bad("not a PE image (no MZ header)");
  const at = pe.readUInt32LE(0x3c);
  if (at + 24 > pe.length || pe.toString("latin1", at, at + 4) !== "PE\0\0") throw bad("no PE signature");
  const coff = at + 4;
  const count = pe.readUInt16LE(coff + 2);
  const optSize = pe.readUInt16LE(coff + 16);
  const opt = coff + 20;
  if (opt + optSize > pe.length || optSize < 96) throw bad("a truncated optional header");
  const magic = pe.readUInt16LE(opt);
  if (magic !== 0x10b && magic !== 0x20b) throw bad(`an optional header of unknown magic 0x${magic.toString(16)}`);
  const dirs = opt + (magic === 0x20b ? 112 : 96);
  const dirCount = pe.readUInt32LE(dirs - 4);
  if (dirCount < 5 || dirs + 5 * 8 > opt + optSize) throw bad("no Certificate Table entry among its data directories");
  const certDirAt = dirs + 4 * 8;
  const headersEnd = pe.readUInt32LE(opt + 60);
  const table = opt + optSize;
  if (table + count * 40 > pe.length || headersEnd > pe.length || headersEnd < table + count * 40)
    throw bad("section headers outside its headers");
  const sections: PeLayout["sections"] = [];
  for (let i = 0; i < count; i++) {
    const size = pe.readUInt32LE(table + i * 40 + 16);
    const start = pe.readUInt32LE(table + i * 40 + 20);
    if (!size) continue;
    if (start < headersEnd || start + size > pe.length) throw bad(`section ${i}'s data lies outside the file`);
    sections.push({ start, end: start + size });
  }
  sections.sort((a, b) => a.start - b.start);
  for (let i = 1; i < sections.length; i++)
    if (sections[i]!.start < sections[i - 1]!.end) throw bad("sections whose data overlaps");
  const cert = { offset: pe.readUInt32LE(certDirAt), size: pe.readUInt32LE(certDirAt + 4) };
  if (cert.offset && cert.offset + cert.size !== pe.length)
    throw bad("a Certificate Table that is not at the end of the file");
  return { checksumAt: opt + 64, certDirAt, headersEnd, sections, cert };
}

/** The Authenticode SHA-256 of a PE image. */
export function authenticodeDigest(pe: Buffer, name = "image"): Buffer {
  const l = layout(pe, name);
  const h = createHash("sha256");
  h.update(pe.subarray(0, l.checksumAt));
  h.update(pe.subarray(l.checksumAt + 4, l.certDirAt));
  h.update(pe.subarray(l.certDirAt + 8, l.headersEnd));
  let hashed = l.headersEnd;
  for (const s of l.sections) {
    h.update(pe.subarray(s.start, s.end));
    hashed = Math.max(hashed, s.end);
  }
  const end = l.cert.offset ? l.cert.offset : pe.length;
  if (end > hashed) h.update(pe.subarray(hashed, end));
  return h.digest();
}

export interface SigningKey {
  key: KeyObject;
  cert: X509Certificate;
  certDer: Buffer;
}

/**
 * The key and certificate as PEM (or DER) bytes, checked: an RSA private key, a certificate
 * whose public key is that key's. Errors name the files, never their contents.
 */
export function signingKey(key: Buffer, cert: Buffer, names: { key: string; cert: string }): SigningKey {
  let k: KeyObject;
  let c: X509Certificate;
  try {
    k = createPrivateKey(key);
  } catch {
    throw new MkError("input", `${names.key} is not a private key mkbundle can read`, {
      hint: "an unencrypted PEM (openssl pkey -in KEY -out plain.pem)",
    });
  }
  try {
    c = new X509Certificate(cert);
  } catch {
    throw new MkError("input", `${names.cert} is not an X.509 certificate (PEM or DER)`);
  }
  if (k.asymmetricKeyType !== "rsa")
    throw new MkError("input", `${names.key} is a ${k.asymmetricKeyType} key; UEFI firmware checks RSA signatures`, {
      hint: "a 2048-bit RSA key, as db and shim keys are",
    });
  if (!c.checkPrivateKey(k)) throw new MkError("input", `${names.cert} is not the certificate of the key ${names.key}`);
  return { key: k, cert: c, certDer: c.raw };
}

/** The certificate's issuer and serial number, as DER (IssuerAndSerialNumber). */
function issuerAndSerial(certDer: Buffer): Buffer {
  const certificate = readElement(certDer, 0, "certificate");
  const tbs = children(certificate, "certificate")[0];
  if (!tbs) throw new FormatError("der", "certificate: no tbsCertificate");
  const fields = children(tbs, "certificate");
  const first = fields[0]?.tag === 0xa0 ? 1 : 0; // [0] version, when present
  const serial = fields[first];
  const issuer = fields[first + 2];
  if (serial?.tag !== 0x02 || issuer?.tag !== 0x30) throw new FormatError("der", "certificate: no serial and issuer");
  return sequence(issuer.raw, serial.raw);
}

/** The PKCS#7 SignedData of an image digest. */
function signedData(digest: Buffer, k: SigningKey): Buffer {
  const spcPeImageData = sequence(
    tlv(0x03, Buffer.from([0])), // flags: an empty bit string
    tagged(0, tagged(2, tlv(0x80, Buffer.from("\0<\0<\0<\0O\0b\0s\0o\0l\0e\0t\0e\0>\0>\0>", "latin1")))),
  );
  const indirect = sequence(
    sequence(oid(OID.spcPeImageData), spcPeImageData),
    sequence(algorithm(OID.sha256), octetString(digest)),
  );
  // The message digest covers the SpcIndirectDataContent's contents, not its tag and length.
  const contentDigest = createHash("sha256").update(readElement(indirect).body).digest();
  const attributes = [
    sequence(oid(OID.contentType), setOf(oid(OID.spcIndirectData))),
    sequence(oid(OID.spcSpOpusInfo), setOf(sequence())),
    sequence(oid(OID.messageDigest), setOf(octetString(contentDigest))),
  ];
  // Signed as a SET OF; stored with the [0] IMPLICIT tag instead of the SET's.
  const signature = sign("sha256", setOf(...attributes), k.key);
  const signerInfo = sequence(
    integer(1),
    issuerAndSerial(k.certDer),
    algorithm(OID.sha256),
    tlv(0xa0, ...[...attributes].sort((a, b) => Buffer.compare(a, b))),
    algorithm(OID.rsaEncryption),
    octetString(signature),
  );
  return sequence(
    oid(OID.signedData),
    tagged(
      0,
      sequence(
        integer(1),
        setOf(algorithm(OID.sha256)),
        sequence(oid(OID.spcIndirectData), tagged(0, indirect)),
        tagged(0, k.certDer),
        setOf(signerInfo),
      ),
    ),
  );
}

/** The image signed: any old signature removed, padded to 8 bytes, the WIN_CERTIFICATE appended. */
export function signPe(pe: Buffer, k: SigningKey, name = "image"): Buffer {
  const l = layout(pe, name);
  const unsigned = l.cert.offset ? pe.subarray(0, l.cert.offset) : pe;
  const padded = Buffer.concat([unsigned, Buffer.alloc((8 - (unsigned.length % 8)) % 8)]);
  padded.writeUInt32LE(0, l.certDirAt);
  padded.writeUInt32LE(0, l.certDirAt + 4);
  const pkcs7 = signedData(authenticodeDigest(padded, name), k);
  const length = 8 + pkcs7.length;
  const entry = Buffer.alloc(length + ((8 - (length % 8)) % 8));
  entry.writeUInt32LE(entry.length, 0);
  entry.writeUInt16LE(WIN_CERT_REVISION_2_0, 4);
  entry.writeUInt16LE(WIN_CERT_TYPE_PKCS_SIGNED_DATA, 6);
  pkcs7.copy(entry, 8);
  const out = Buffer.concat([padded, entry]);
  out.writeUInt32LE(padded.length, l.certDirAt);
  out.writeUInt32LE(entry.length, l.certDirAt + 4);
  return out;
}
