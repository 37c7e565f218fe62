// The settings table resolved once: precedence, sources, validation naming the source, a
// frozen result, secrets never printed.
import { describe, expect, it } from "vitest";
import { describeConfig, resolveConfig } from "../../src/config/config.js";
import { MkError } from "../../src/errors.js";
import type { Manifest } from "../../src/manifest/types.js";

const manifest = (m: Record<string, unknown>): Manifest => ({ name: "a", ...m });

describe("one resolved configuration", () => {
  it("takes the command line over the manifest over the environment over the default, and says which", () => {
    const env = { MK_BUNDLE_TCL_MIRROR_URI: "http://env.example/tc/4.x/x86/tcz" };
    const all = resolveConfig({ cli: { mirror: "/srv/cli" }, manifest: manifest({ mirror: "/srv/m" }), env });
    expect([all.values.mirror, all.sources.mirror]).toEqual(["/srv/cli", { kind: "cli", name: "--mirror" }]);
    const noCli = resolveConfig({ manifest: manifest({ mirror: "/srv/m" }), env });
    expect([noCli.values.mirror, noCli.sources.mirror]).toEqual(["/srv/m", { kind: "manifest", name: "mirror" }]);
    // Razor's variable named the tcz directory: its root is the mirror.
    const envOnly = resolveConfig({ env });
    expect(envOnly.values.mirror).toBe("http://env.example/tc");
    expect(envOnly.sources.mirror).toEqual({ kind: "env", name: "MK_BUNDLE_TCL_MIRROR_URI" });
    const none = resolveConfig({ env: {} });
    expect(none.sources.mirror.kind).toBe("default");
    expect(none.values.mirror).toBe("http://distro.ibiblio.org/tinycorelinux");
  });

  it("SOURCE_DATE_EPOCH beats the manifest's epoch, and only then asks for reproducibility", () => {
    const both = resolveConfig({ manifest: manifest({ epoch: 5 }), env: { SOURCE_DATE_EPOCH: "1700000000" } });
    expect([both.values.epoch, both.sources.epoch.name, both.sourceDateEpoch]).toEqual([
      1700000000,
      "SOURCE_DATE_EPOCH",
      1700000000,
    ]);
    const written = resolveConfig({ manifest: manifest({ epoch: 5 }), env: {} });
    expect([written.values.epoch, written.sources.epoch.kind, written.sourceDateEpoch]).toEqual([
      5,
      "manifest",
      undefined,
    ]);
    // An empty variable is unset, as the shell's `VAR= cmd` means.
    expect(resolveConfig({ env: { SOURCE_DATE_EPOCH: "" } }).values.epoch).toBe(1577836800);
  });

  it("the lower-case proxy variable wins, as curl and undici read them", () => {
    const c = resolveConfig({ env: { http_proxy: "http://lower:1", HTTP_PROXY: "http://upper:2" } });
    expect([c.values.httpProxy, c.sources.httpProxy.name]).toEqual(["http://lower:1", "http_proxy"]);
  });

  it.each([
    ["SOURCE_DATE_EPOCH", "yesterday", /SOURCE_DATE_EPOCH='yesterday' is not a time/],
    ["SOURCE_DATE_EPOCH", "4294967296", /SOURCE_DATE_EPOCH='4294967296' is not a time/],
    ["MKBUNDLE_MAX_BYTES", "lots", /MKBUNDLE_MAX_BYTES 'lots' is not a size/],
    ["MKBUNDLE_MAX_ENTRIES", "-3", /MKBUNDLE_MAX_ENTRIES '-3' is not a positive whole number/],
    ["MKBUNDLE_ACCEL", "turbo", /MKBUNDLE_ACCEL 'turbo' is not an accelerator/],
  ])("%s=%s is a usage error naming the variable", (name, value, message) => {
    let err: unknown;
    try {
      resolveConfig({ env: { [name]: value } });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MkError);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).not.toContain("\n");
  });

  it("a bad command-line value names the option", () => {
    expect(() => resolveConfig({ cli: { jobs: "0" }, env: {} })).toThrow(/jobs '0' is not a whole number from 1/);
  });

  it("sizes take binary units; limits come from the same values", () => {
    const c = resolveConfig({
      env: { MKBUNDLE_MAX_BYTES: "512M", MKBUNDLE_MAX_ENTRIES: "77", MKBUNDLE_MAX_METADATA: "64M" },
    });
    expect(c.limits).toEqual({ entries: 77, bytes: 512 * 1024 * 1024, metadata: 64 * 1024 * 1024 });
  });

  it("is frozen: nothing downstream can change a value", () => {
    const c = resolveConfig({ env: {} });
    expect(Object.isFrozen(c) && Object.isFrozen(c.values) && Object.isFrozen(c.limits)).toBe(true);
    expect(() => {
      (c.values as { jobs: number }).jobs = 99;
    }).toThrow(TypeError);
  });

  it("describes every setting with its source, and a password only as set", () => {
    const c = resolveConfig({ env: { MKBUNDLE_REGISTRY_PASSWORD: "hunter2", MKBUNDLE_REGISTRY_USERNAME: "me" } });
    const rows = describeConfig(c);
    expect(rows.map((r) => r.setting)).toContain("accel");
    expect(rows.every((r) => r.doc.length > 0)).toBe(true);
    expect(rows.find((r) => r.setting === "registryPassword")).toMatchObject({
      value: "(set, not shown)",
      from: "MKBUNDLE_REGISTRY_PASSWORD (env)",
    });
    expect(JSON.stringify(rows)).not.toContain("hunter2");
  });
});
