import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { loadValidator, schemaPath } from "../../src/manifest/schema.js";

type S = Record<string, unknown>;
const schema = JSON.parse(readFileSync(schemaPath("manifest"), "utf8")) as S;

/** Every key an author can write, with its schema, e.g. "files[].extract.extension". */
function keys(s: S, prefix: string, out: [string, S][] = []): [string, S][] {
  const resolved = typeof s["$ref"] === "string" ? ((schema["$defs"] as S)[s["$ref"].split("/").pop()!] as S) : s;
  for (const [k, v] of Object.entries((resolved["properties"] as S | undefined) ?? {})) {
    const child = v as S;
    const path = prefix ? `${prefix}.${k}` : k;
    out.push([path, child]);
    keys(child, path, out);
  }
  const items = resolved["items"] as S | undefined;
  if (items) keys(items, `${prefix}[]`, out);
  return out;
}

describe("manifest schema", () => {
  it("is JSON Schema 2020-12 and compiles in strict mode", () => {
    expect(schema["$schema"]).toBe("https://json-schema.org/draft/2020-12/schema");
    expect(() => loadValidator("manifest")).not.toThrow();
  });

  it("gives every key a description and an example", () => {
    const all = keys(schema, "");
    expect(all.length).toBeGreaterThan(30);
    const missing = all.filter(
      ([, s]) =>
        typeof s["description"] !== "string" ||
        !Array.isArray(s["examples"]) ||
        (s["examples"] as unknown[]).length === 0,
    );
    expect(missing.map(([k]) => k)).toEqual([]);
  });

  it("has the fixed keys other tooling relies on", () => {
    const names = keys(schema, "").map(([k]) => k);
    for (const k of [
      "name",
      "version",
      "flavour",
      "base.release",
      "base.arch",
      "base.iso",
      "base.sha256",
      "mirror",
      "kernel",
      "extensions.builtin",
      "extensions.mirror",
      "gems.source",
      "gems.require",
      "files[].path",
      "files[].source",
      "files[].content",
      "files[].mode",
      "files[].owner",
      "files[].extract.extension",
      "files[].extract.path",
      "services[].name",
      "services[].run",
      "password.env",
      "password.file",
      "password.hash",
      "boot.append",
      "boot.timeout",
    ]) {
      expect(names).toContain(k);
    }
  });

  it("accepts its own examples", () => {
    const validate = loadValidator("manifest");
    for (const ex of schema["examples"] as unknown[]) expect(validate(ex), JSON.stringify(validate.errors)).toBe(true);
  });
});
