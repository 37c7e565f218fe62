// The SBOM of an image built from the x86_64 fixture with builtin parted (and the extensions its
// .dep files bring), mirror dosfstools and boot.uefi's loader: CycloneDX 1.5 validates against
// the CycloneDX project's own JSON schema (from @cyclonedx/cyclonedx-library); SPDX 2.3 has the
// fields, identifiers, checksums and relationships the specification requires and validates
// against its JSON schema's constraints (helpers/spdx-2.3.ts: the official file is not packaged
// for npm or Debian); both list every sha256 of the lock
// and every overlay file; the extensions agree with what `mkbundle ls` finds in the image; two
// builds give byte-identical SBOMs, and the one beside the ISO is `mkbundle sbom`'s.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { Ajv } from "ajv";
import addFormats from "ajv-formats";
import { describe, expect, it } from "vitest";
import { readBundle } from "../../src/bundle/read-bundle.js";
import { DEFAULT_LIMITS } from "../../src/formats/limits.js";
import { buildOnFixtures, mkbundleIn } from "../helpers/cli.js";
import { tempDir } from "../helpers/tmp.js";
import { SPDX_2_3 } from "../helpers/spdx-2.3.js";

const { dir, write } = tempDir("mkbundle-sbom-");
const LOADER = "/usr/lib/systemd/boot/efi/systemd-bootx64.efi";
const sha = (f: string) => createHash("sha256").update(readFileSync(f)).digest("hex");
const schemaDir = join(
  createRequire(import.meta.url).resolve("@cyclonedx/cyclonedx-library/package.json"),
  "../res/schema",
);
const schema = (name: string) => JSON.parse(readFileSync(join(schemaDir, name), "utf8")) as Record<string, unknown>;

const MANIFEST = `name: sbomtest
version: 1.0.0
base: { release: 10.x, arch: x86_64, iso: CorePure64-10.1.iso }
extensions:
  builtin: [parted]
  mirror: [dosfstools]
files:
  - path: /etc/motd
    content: "an SBOM lists me\\n"
boot:
  uefi:
    loader: { url: ${LOADER}, sha256: ${sha(LOADER)} }
`;

interface Spdx {
  spdxVersion: string;
  dataLicense: string;
  SPDXID: string;
  name: string;
  documentNamespace: string;
  creationInfo: { created: string; creators: string[] };
  packages: {
    SPDXID: string;
    name: string;
    downloadLocation: string;
    checksums?: { algorithm: string; checksumValue: string }[];
  }[];
  files: {
    SPDXID: string;
    fileName: string;
    checksums: { algorithm: string; checksumValue: string }[];
    comment?: string;
  }[];
  relationships: { spdxElementId: string; relationshipType: string; relatedSpdxElement: string }[];
}

const build = (m: string, out: string) => buildOnFixtures(m, { workDir: join(dir, "wd"), out: join(dir, out) });

describe("SBOM", () => {
  it("SPDX 2.3 and CycloneDX 1.5: every pin and file, the closure's edges, reproducible, as the image holds", async () => {
    const m = write("app/sbomtest.yaml", MANIFEST);
    const a = await build(m, "a");
    expect(a.code, a.stderr).toBe(0);
    const b = await build(m, "b");
    expect(b.code, b.stderr).toBe(0);
    const beside = join(dir, "a", "sbomtest-dev-1.0.0.spdx.json");
    expect(readFileSync(beside)).toEqual(readFileSync(join(dir, "b", "sbomtest-dev-1.0.0.spdx.json")));
    const bundle = join(dir, "a", "sbomtest-bundle-dev.tar.gz");
    const printed = await mkbundleIn(["sbom", bundle]);
    expect(printed.code, printed.stderr).toBe(0);
    expect(printed.stdout).toBe(readFileSync(beside, "utf8"));

    const opened = await readBundle(bundle, DEFAULT_LIMITS);
    const { lock } = opened.json;
    const pins = [
      lock.base.sha256,
      lock.uefiLoader!.sha256,
      ...lock.extensions.filter((x) => x.role !== "extract").map((x) => x.sha256),
    ];
    const overlayFiles = opened.overlay
      .filter((e) => e.type === "file")
      .map((e) => `./${e.path}`)
      .sort();

    // SPDX 2.3, by the specification's rules and its JSON schema's constraints.
    const doc = JSON.parse(printed.stdout) as Spdx;
    const spdx = new Ajv({ strict: false, allErrors: true }).compile(SPDX_2_3);
    expect(spdx(doc), JSON.stringify(spdx.errors?.slice(0, 5))).toBe(true);
    expect(spdx({ ...doc, packages: [{ ...doc.packages[0], licence: "MIT" }] })).toBe(false); // it does judge
    expect(doc).toMatchObject({ spdxVersion: "SPDX-2.3", dataLicense: "CC0-1.0", SPDXID: "SPDXRef-DOCUMENT" });
    expect(doc.documentNamespace).toMatch(/^https:\/\/[^#\s]+$/);
    expect(doc.creationInfo.created).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(doc.creationInfo.creators[0]).toMatch(/^Tool: mkbundle-/);
    const ids = [...doc.packages.map((p) => p.SPDXID), ...doc.files.map((f) => f.SPDXID), "SPDXRef-DOCUMENT"];
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^SPDXRef-[A-Za-z0-9.-]+$/);
    for (const r of doc.relationships)
      expect(ids).toEqual(expect.arrayContaining([r.spdxElementId, r.relatedSpdxElement]));
    for (const f of doc.files) expect(f.checksums.map((c) => c.algorithm)).toEqual(["SHA1", "SHA256"]);
    for (const p of doc.packages) expect(p.downloadLocation).toBeTruthy();
    const sums = doc.packages.flatMap((p) =>
      (p.checksums ?? []).filter((c) => c.algorithm === "SHA256").map((c) => c.checksumValue),
    );
    expect(sums.sort()).toEqual([...pins].sort());
    expect(doc.files.map((f) => f.fileName).sort()).toEqual(overlayFiles);
    expect(doc.files.find((f) => f.fileName === "./etc/motd")!.comment).toBe("from the manifest's files[0]");
    const idOf = (name: string) => doc.packages.find((p) => p.name === name)!.SPDXID;
    expect(doc.relationships).toContainEqual({
      spdxElementId: idOf("parted"),
      relationshipType: "DEPENDS_ON",
      relatedSpdxElement: idOf("readline"),
    });
    expect(doc.relationships).toContainEqual({
      spdxElementId: "SPDXRef-Image",
      relationshipType: "CONTAINS",
      relatedSpdxElement: idOf("dosfstools"),
    });

    // The extensions are the ones in the image.
    const iso = a.stdout.trim();
    const ofImage = await mkbundleIn(["sbom", iso]);
    expect(ofImage.code).toBe(2);
    expect(ofImage.stderr).toContain("an image: the build writes its SBOM beside it (NAME.spdx.json, the sbom output)");
    const inImage = async (...inner: string[]) =>
      (await mkbundleIn(["ls", iso, ...inner])).stdout.split("\n").flatMap((l) => /\/([^/]+)\.tcz$/.exec(l)?.[1] ?? []);
    const listed = [
      ...(await inImage("boot/corepure64.gz", "tmp/builtin/optional")),
      ...(await inImage("boot/corepure64.gz", "tmp/tinycorelinux/10.x/x86_64/tcz")),
    ].sort();
    expect(
      doc.packages
        .filter((p) => p.SPDXID.startsWith("SPDXRef-Extension-"))
        .map((p) => p.name)
        .sort(),
    ).toEqual(listed);

    // CycloneDX 1.5, against the CycloneDX schema.
    const cdx = await mkbundleIn(["sbom", bundle, "--format", "cyclonedx"]);
    expect(cdx.code, cdx.stderr).toBe(0);
    const ajv = new Ajv({ strict: false, allErrors: true, formats: { "iri-reference": true, "idn-email": true } });
    addFormats.default(ajv);
    // The bom schema names them relative to its own $id.
    for (const name of ["spdx.SNAPSHOT.schema.json", "jsf-0.82.SNAPSHOT.schema.json"]) {
      const { $id: _id, ...s } = schema(name);
      ajv.addSchema(s, `http://cyclonedx.org/schema/${name}`);
    }
    const validate = ajv.compile(schema("bom-1.5.SNAPSHOT.schema.json"));
    const bom = JSON.parse(cdx.stdout) as {
      components: { hashes: { alg: string; content: string }[]; name: string }[];
    };
    expect(validate(bom), JSON.stringify(validate.errors?.slice(0, 5))).toBe(true);
    expect(validate({ ...bom, components: [{ type: "tcz", name: "x" }] })).toBe(false); // the schema does judge
    const cdxSums = bom.components.flatMap((c) => c.hashes.filter((h) => h.alg === "SHA-256").map((h) => h.content));
    expect(cdxSums).toEqual(expect.arrayContaining(pins));
    expect(
      bom.components
        .filter((c) => c.name.startsWith("./"))
        .map((c) => c.name)
        .sort(),
    ).toEqual(overlayFiles);
  }, 120_000);
});
