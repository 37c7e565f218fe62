// What is in an image, for scanners and auditors: an SBOM made from the bundle alone (its
// lock pins every download by sha256, its overlay holds every file mkbundle adds), as SPDX 2.3
// JSON or CycloneDX 1.5 JSON. The image CONTAINS the base, each extension, gem, EFI loader,
// downloaded kernel module and overlay file; an extension DEPENDS_ON what its .dep names (the
// lock's closure). Dates come from the build's epoch and identifiers from the content, so the
// same bundle gives the same bytes.
import { createHash } from "node:crypto";
import { packageVersion } from "../io/package-version.js";
import { readContent, type Entry } from "../tree/entry.js";
import type { BundleJson } from "./bundle.js";

export type SbomFormat = "spdx" | "cyclonedx";

/** One thing the image holds, in both formats' terms. */
interface Part {
  id: string;
  name: string;
  version?: string;
  kind: "base" | "extension" | "gem" | "loader" | "module" | "file" | "pushed";
  location?: string;
  sha256: string;
  md5?: string;
  sha1?: string;
  purl?: string;
  comment?: string;
  dependsOn?: string[];
}

const sha = (alg: string, b: Buffer) => createHash(alg).update(b).digest("hex");
/** An SPDX id: letters, digits, '.' and '-' only. */
const spdxId = (kind: string, name: string) => `SPDXRef-${kind}-${name.replace(/[^A-Za-z0-9.-]/g, "-")}`;

/** "Version:" of an extension's .info, when the bundle holds it. */
function infoVersion(info: Entry | undefined): string | undefined {
  if (info?.type !== "file" || info.size > 64 * 1024) return undefined;
  const v = /^Version:\s*(\S.*?)\s*$/m.exec(readContent(info).toString("utf8"))?.[1];
  return v && v.length <= 100 ? v : undefined;
}

/** What the bundle's image holds: base, extensions, gems, loader, modules, overlay files. */
function partsOf(json: BundleJson, overlay: readonly Entry[]): Part[] {
  const { lock, manifest } = json;
  const mirror = `${lock.mirror.replace(/\/+$/, "")}/${lock.release}/${lock.arch}/tcz`;
  const byPath = new Map(overlay.map((e) => [e.path, e]));
  const infoOf = (name: string) => [...byPath.values()].find((e) => e.path.endsWith(`/${name}.tcz.info`));
  const parts: Part[] = [
    {
      id: "SPDXRef-Base",
      name: lock.base.url.split("/").pop()!,
      version: lock.release,
      kind: "base",
      location: lock.base.url,
      sha256: lock.base.sha256,
      comment: `Tiny Core ${lock.release} ${lock.arch}${lock.kernel ? `, kernel ${lock.kernel}` : ""}`,
    },
  ];
  const shipped = lock.extensions.filter((x) => x.role !== "extract");
  for (const x of shipped) {
    const version = infoVersion(infoOf(x.name));
    parts.push({
      id: spdxId("Extension", x.name),
      name: x.name,
      ...(version ? { version } : {}),
      kind: "extension",
      location: x.local ? `local: ${x.local}` : `${mirror}/${x.name}.tcz`,
      sha256: x.sha256,
      md5: x.md5,
      comment: `${x.role} extension, required by ${x.requiredBy.join(", ")}`,
      dependsOn: x.deps.filter((d) => shipped.some((y) => y.name === d)).map((d) => spdxId("Extension", d)),
    });
  }
  for (const g of lock.gems)
    parts.push({
      id: spdxId("Gem", `${g.name}-${g.version}`),
      name: g.name,
      version: g.version,
      kind: "gem",
      location: `${lock.gemSource ?? manifest.gems.source}/gems/${g.name}-${g.version}.gem`,
      sha256: g.sha256,
      purl: `pkg:gem/${encodeURIComponent(g.name)}@${encodeURIComponent(g.version)}`,
    });
  if (lock.uefiLoader)
    parts.push({
      id: "SPDXRef-EFI-loader",
      name: lock.uefiLoader.url.split("/").pop()!,
      kind: "loader",
      location: lock.uefiLoader.url,
      sha256: lock.uefiLoader.sha256,
      comment: "boot.uefi.loader: EFI/BOOT/BOOTX64.EFI in efi.img",
    });
  (lock.kernelModules ?? []).forEach((k, i) =>
    parts.push({
      id: spdxId("Module", `${i}-${k.url.split("/").pop()!}`),
      name: k.url.split("/").pop()!,
      kind: "module",
      location: k.url,
      sha256: k.sha256,
      comment: `kernel_modules (download ${i})`,
    }),
  );
  const fromManifest = new Map(manifest.files.map((f, i) => [f.path.replace(/^\/+/, ""), `files[${i}]`]));
  let n = 0;
  for (const e of [...overlay].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
    if (e.type !== "file") continue;
    const data = readContent(e);
    parts.push({
      id: `SPDXRef-File-${++n}`,
      name: `./${e.path}`,
      kind: "file",
      sha256: sha("sha256", data),
      sha1: sha("sha1", data),
      comment: fromManifest.has(e.path)
        ? `from the manifest's ${fromManifest.get(e.path)!}`
        : e.path.endsWith(".tcz") || e.path.includes(".tcz.") || e.path.endsWith(".gem")
          ? "a locked download (see its package)"
          : "written by mkbundle from the manifest (services, accounts, lists, kernel_modules)",
    });
  }
  return parts;
}

/** What the lock pinned and the image holds (base, extensions, gems, loader, modules): name, where from, sha256. */
export function lockedDownloads(json: BundleJson): { name: string; location: string; sha256: string }[] {
  return partsOf(json, [])
    .filter((p) => p.kind !== "file")
    .map((p) => ({ name: p.name, location: p.location ?? "NOASSERTION", sha256: p.sha256 }));
}

function spdx(json: BundleJson, parts: readonly Part[], created: string, docName: string, digest: string): unknown {
  const packages = parts.filter((p) => p.kind !== "file");
  const files = parts.filter((p) => p.kind === "file");
  return {
    spdxVersion: "SPDX-2.3",
    dataLicense: "CC0-1.0",
    SPDXID: "SPDXRef-DOCUMENT",
    name: docName,
    documentNamespace: `https://mkbundle.dev/spdx/${encodeURIComponent(docName)}-${digest}`,
    creationInfo: { created, creators: [`Tool: mkbundle-${packageVersion()}`] },
    documentDescribes: ["SPDXRef-Image"],
    packages: [
      {
        SPDXID: "SPDXRef-Image",
        name: json.name,
        ...(json.version ? { versionInfo: json.version } : {}),
        downloadLocation: "NOASSERTION",
        filesAnalyzed: false,
        primaryPackagePurpose: "OPERATING-SYSTEM",
        comment: `a Tiny Core image, flavour ${json.flavour}, built by mkbundle`,
      },
      ...packages.map((p) => ({
        SPDXID: p.id,
        name: p.name,
        ...(p.version ? { versionInfo: p.version } : {}),
        downloadLocation: p.location ?? "NOASSERTION",
        filesAnalyzed: false,
        checksums: [
          { algorithm: "SHA256", checksumValue: p.sha256 },
          ...(p.md5 ? [{ algorithm: "MD5", checksumValue: p.md5 }] : []),
        ],
        primaryPackagePurpose:
          p.kind === "base"
            ? "OPERATING-SYSTEM"
            : p.kind === "gem"
              ? "LIBRARY"
              : p.kind === "loader"
                ? "APPLICATION"
                : p.kind === "pushed"
                  ? "FILE"
                  : "INSTALL",
        ...(p.purl
          ? {
              externalRefs: [{ referenceCategory: "PACKAGE-MANAGER", referenceType: "purl", referenceLocator: p.purl }],
            }
          : {}),
        ...(p.comment ? { comment: p.comment } : {}),
      })),
    ],
    files: files.map((f) => ({
      SPDXID: f.id,
      fileName: f.name,
      checksums: [
        { algorithm: "SHA1", checksumValue: f.sha1 },
        { algorithm: "SHA256", checksumValue: f.sha256 },
      ],
      ...(f.comment ? { comment: f.comment } : {}),
    })),
    relationships: [
      { spdxElementId: "SPDXRef-DOCUMENT", relationshipType: "DESCRIBES", relatedSpdxElement: "SPDXRef-Image" },
      ...parts.map((p) => ({
        spdxElementId: "SPDXRef-Image",
        relationshipType: p.kind === "pushed" ? "DISTRIBUTION_ARTIFACT" : "CONTAINS",
        relatedSpdxElement: p.id,
      })),
      ...parts.flatMap((p) =>
        (p.dependsOn ?? []).map((d) => ({
          spdxElementId: p.id,
          relationshipType: "DEPENDS_ON",
          relatedSpdxElement: d,
        })),
      ),
    ],
  };
}

/** A version 5 style UUID from a digest (the same bundle, the same serial number). */
const uuidOf = (hex: string) =>
  `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;

function cyclonedx(json: BundleJson, parts: readonly Part[], created: string, digest: string): unknown {
  const type = (p: Part) =>
    p.kind === "base"
      ? "operating-system"
      : p.kind === "file" || p.kind === "pushed"
        ? "file"
        : p.kind === "loader"
          ? "application"
          : "library";
  return {
    bomFormat: "CycloneDX",
    specVersion: "1.5",
    serialNumber: `urn:uuid:${uuidOf(digest)}`,
    version: 1,
    metadata: {
      timestamp: created,
      tools: { components: [{ type: "application", name: "mkbundle", version: packageVersion() }] },
      component: {
        type: "operating-system",
        "bom-ref": "SPDXRef-Image",
        name: json.name,
        ...(json.version ? { version: json.version } : {}),
        description: `a Tiny Core image, flavour ${json.flavour}, built by mkbundle`,
      },
    },
    components: parts.map((p) => ({
      type: type(p),
      "bom-ref": p.id,
      name: p.name,
      ...(p.version ? { version: p.version } : {}),
      hashes: [
        { alg: "SHA-256", content: p.sha256 },
        ...(p.md5 ? [{ alg: "MD5", content: p.md5 }] : []),
        ...(p.sha1 ? [{ alg: "SHA-1", content: p.sha1 }] : []),
      ],
      ...(p.purl ? { purl: p.purl } : {}),
      ...(p.location && /^[a-z][a-z0-9+.-]*:/i.test(p.location)
        ? { externalReferences: [{ type: "distribution", url: p.location }] }
        : {}),
      ...(p.comment ? { description: p.comment } : {}),
    })),
    dependencies: [
      { ref: "SPDXRef-Image", dependsOn: parts.map((p) => p.id) },
      ...parts.filter((p) => p.dependsOn).map((p) => ({ ref: p.id, dependsOn: p.dependsOn! })),
    ],
  };
}

/** A file pushed with the image (a layer of its OCI artifact): listed so that a verifier can match them. */
export interface PushedFile {
  name: string;
  sha256: string;
}

export const PUSHED_ID_PREFIX = "SPDXRef-Pushed-";

/** The SBOM of a bundle's image as JSON text (ending in a newline); `pushed`: the files distributed with it. */
export function sbomOf(
  json: BundleJson,
  overlay: readonly Entry[],
  format: SbomFormat,
  pushed: readonly PushedFile[] = [],
): string {
  const parts = partsOf(json, overlay);
  pushed.forEach((f, i) =>
    parts.push({
      id: `${PUSHED_ID_PREFIX}${i + 1}`,
      name: f.name,
      kind: "pushed",
      sha256: f.sha256,
      comment: "a file pushed with the image (a layer of its OCI artifact)",
    }),
  );
  const created = new Date(json.epoch * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
  const docName = `${json.name}-${json.flavour}${json.version ? `-${json.version}` : ""}`;
  const digest = sha("sha256", Buffer.from(JSON.stringify({ lock: json.lock, members: json.members })));
  const doc = format === "spdx" ? spdx(json, parts, created, docName, digest) : cyclonedx(json, parts, created, digest);
  return `${JSON.stringify(doc, null, 2)}\n`;
}
