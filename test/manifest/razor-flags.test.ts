import { describe, expect, it } from "vitest";
import { razorInput } from "../../src/manifest/razor-flags.js";
import { resolveConfig } from "../../src/config/config.js";
import type { Env } from "../../src/config/environment.js";
import { manifestSettings } from "../../src/context/manifest.js";
import { resolveManifest as resolveWith } from "../../src/manifest/resolve.js";
import type { Manifest } from "../../src/manifest/types.js";
import { tempDir } from "../helpers/tmp.js";

const { write } = tempDir();
const b = write("b.lst", "openssh.tcz\nbash\n");
const m = write("m.lst", "procps\n");
const other = write("other.lst", "nano\n");
/** The manifest resolved as a run resolves it: the configuration's settings (command line, manifest, environment). */
const resolveManifest = (m: Manifest, o: { mirror?: string; env?: Env } = {}) =>
  resolveWith(
    m,
    manifestSettings(resolveConfig({ manifest: m, env: o.env ?? {}, cli: o.mirror ? { mirror: o.mirror } : {} })),
  );
const messages = (r: ReturnType<typeof razorInput>) => r.diagnostics.map((d) => `${d.severity}: ${d.message}`);

describe("Razor flags, -c file and environment", () => {
  it("builds the in-memory manifest Razor users expect", () => {
    const r = razorInput({ builtinList: b, mirrorList: m }, {});
    expect(r.diagnostics).toEqual([]);
    expect(r.manifest).toEqual({
      name: "razor-microkernel",
      flavour: "dev",
      base: { release: "4.x", arch: "x86" },
      extensions: { builtin: ["openssh", "bash"], mirror: ["procps"] },
    } satisfies Manifest);
    expect(resolveManifest(r.manifest).base.iso).toBe("Core-current.iso");
    expect(r.locate(["extensions", "builtin", 1])).toEqual({ file: b, line: 2, column: 1 });
  });

  it("command line beats -c file beats environment", () => {
    const cfg = write("a.cfg", `MK_BUNDLE_TYPE=debug\nMK_BUNDLE_BUILTIN_LIST=${other}\nMK_BUNDLE_MIRROR_LIST=${m}\n`);
    const env = { MK_BUNDLE_TYPE: "prod", MK_BUNDLE_BUILTIN_LIST: b, MK_BUNDLE_TCL_MIRROR_URI: "http://env-mirror/tc" };
    expect(razorInput({ config: cfg }, env).manifest.flavour).toBe("debug"); // -c beats env
    expect(razorInput({ config: cfg }, env).manifest.extensions?.builtin).toEqual(["nano"]);
    expect(razorInput({ config: cfg, buildProdImage: true }, env).manifest.flavour).toBe("prod"); // flag beats -c
    expect(razorInput({ config: cfg, builtinList: b }, env).manifest.extensions?.builtin).toEqual(["openssh", "bash"]);
    expect(razorInput({ builtinList: b, mirrorList: m }, env).manifest.flavour).toBe("prod"); // env beats default
    expect(razorInput({ builtinList: b, mirrorList: m }, {}).manifest.flavour).toBe("dev"); // default
  });

  it("takes the lists from MK_BUNDLE_BUILTIN_LIST and MK_BUNDLE_MIRROR_LIST", () => {
    const r = razorInput({}, { MK_BUNDLE_BUILTIN_LIST: b, MK_BUNDLE_MIRROR_LIST: m });
    expect(r.usageError).toBe(false);
    expect(r.manifest.extensions).toEqual({ builtin: ["openssh", "bash"], mirror: ["procps"] });
  });

  it("keeps the password out of the manifest and in the settings", () => {
    const r = razorInput({ builtinList: b, mirrorList: m, tcPasswd: "s3cret" }, {});
    expect(r.manifest.password).toEqual({ env: "MK_BUNDLE_TC_PASSWD" });
    expect(r.settings["MK_BUNDLE_TC_PASSWD"]).toBe("s3cret");
    expect(JSON.stringify(r.manifest)).not.toContain("s3cret");
  });

  it("ignores a password for prod with a warning naming where it came from", () => {
    const r = razorInput({ builtinList: b, mirrorList: m, buildProdImage: true }, { MK_BUNDLE_TC_PASSWD: "x" });
    expect(messages(r)).toEqual([
      "warning: a 'tc' password cannot be set for a prod image; the password from environment variable MK_BUNDLE_TC_PASSWD is ignored",
    ]);
    expect(r.manifest.password).toBeUndefined();
    expect(r.settings["MK_BUNDLE_TC_PASSWD"]).toBeUndefined();
  });

  it("rejects -p with -d, missing lists, unreadable lists and a bad MK_BUNDLE_TYPE", () => {
    expect(
      messages(razorInput({ builtinList: b, mirrorList: m, buildProdImage: true, buildDebugImage: true }, {})),
    ).toEqual(["error: cannot specify both -d and -p"]);
    expect(messages(razorInput({ mirrorList: m }, {}))).toEqual(["error: missing -b/--builtin-list"]);
    expect(messages(razorInput({}, {}))).toEqual(["error: missing -b/--builtin-list and -m/--mirror-list"]);
    const missing = razorInput({ builtinList: "/nonexistent/b.lst", mirrorList: m }, {});
    expect(missing.diagnostics.map((d) => `${d.file}: ${d.message}`)).toEqual([
      "/nonexistent/b.lst: extension list does not exist",
    ]);
    expect(messages(razorInput({ builtinList: b, mirrorList: m }, { MK_BUNDLE_TYPE: "production" }))).toEqual([
      "error: MK_BUNDLE_TYPE 'production' (from environment variable MK_BUNDLE_TYPE) is not a bundle type",
    ]);
    for (const r of [razorInput({ mirrorList: m }, {}), missing]) expect(r.usageError).toBe(true);
  });

  it("turns Razor's tcz-directory mirror URI into the mirror root and series", () => {
    const r = razorInput(
      { builtinList: b, mirrorList: m },
      { MK_BUNDLE_TCL_MIRROR_URI: "http://mirror.example/tinycorelinux/5.x/x86_64/tcz/" },
    );
    expect(r.manifest.mirror).toBe("http://mirror.example/tinycorelinux");
    expect(r.manifest.base).toMatchObject({ release: "5.x", arch: "x86_64" });
    expect(resolveManifest(r.manifest).base.iso).toBe("CorePure64-current.iso");
  });

  it("--arch and --release (or MK_BUNDLE_TCL_ARCH and MK_BUNDLE_TCL_RELEASE) choose the series, beating the mirror URI's", () => {
    const env = { MK_BUNDLE_TCL_MIRROR_URI: "http://mirror.example/tinycorelinux/4.x/x86/tcz" };
    const flags = razorInput({ builtinList: b, mirrorList: m, arch: "x86_64", release: "16.x" }, env);
    expect(flags.diagnostics).toEqual([]);
    expect(flags.manifest.base).toEqual({ release: "16.x", arch: "x86_64" });
    expect(flags.manifest.mirror).toBe("http://mirror.example/tinycorelinux");
    const fromEnv = razorInput(
      { builtinList: b, mirrorList: m },
      { MK_BUNDLE_TCL_ARCH: "x86_64", MK_BUNDLE_TCL_RELEASE: "10.x" },
    );
    expect(fromEnv.manifest.base).toEqual({ release: "10.x", arch: "x86_64" });
  });

  it("refuses an arch or series mkbundle cannot build, naming where it came from", () => {
    const r = razorInput({ builtinList: b, mirrorList: m, arch: "arm64" }, { MK_BUNDLE_TCL_RELEASE: "latest" });
    expect(r.usageError).toBe(true);
    expect(messages(r)).toEqual([
      "error: MK_BUNDLE_TCL_ARCH 'arm64' (from --arch) is not an architecture mkbundle builds",
      "error: MK_BUNDLE_TCL_RELEASE 'latest' (from environment variable MK_BUNDLE_TCL_RELEASE) is not a Tiny Core series",
    ]);
  });
});

describe("resolving defaults and precedence of the mirror", () => {
  const manifest: Manifest = { name: "a", mirror: "http://from-manifest", extensions: { builtin: ["bash.tcz"] } };
  it("--mirror > manifest > MK_BUNDLE_TCL_MIRROR_URI > public default", () => {
    const env = { MK_BUNDLE_TCL_MIRROR_URI: "http://from-env" };
    expect(resolveManifest(manifest, { mirror: "/srv/mirror", env }).mirror).toBe("/srv/mirror");
    expect(resolveManifest(manifest, { env }).mirror).toBe("http://from-manifest");
    expect(resolveManifest({ name: "a" }, { env }).mirror).toBe("http://from-env");
    expect(resolveManifest({ name: "a" }).mirror).toBe("http://distro.ibiblio.org/tinycorelinux");
    // Razor's tcz-directory form works for manifests too.
    const razorForm = { MK_BUNDLE_TCL_MIRROR_URI: "http://m.example/tinycorelinux/4.x/x86/tcz/" };
    expect(resolveManifest({ name: "a" }, { env: razorForm }).mirror).toBe("http://m.example/tinycorelinux");
  });

  it("an x86_64 base defaults to CorePure64-current.iso; a distribution-files base has no ISO name", () => {
    expect(resolveManifest({ name: "a", base: { release: "10.x", arch: "x86_64" } }).base).toEqual({
      release: "10.x",
      arch: "x86_64",
      iso: "CorePure64-current.iso",
    });
    const parts = resolveManifest(
      { name: "a", base: { arch: "x86_64", kernel: "vmlinuz64", initrds: ["rootfs64.gz", "modules64.gz"] } },
      { env: { MK_BUNDLE_TCL_ISO_URL: "http://ignored/for/parts.iso" } },
    );
    expect(parts.base).toEqual({
      release: "4.x",
      arch: "x86_64",
      kernel: "vmlinuz64",
      initrds: ["rootfs64.gz", "modules64.gz"],
    });
  });

  it("fills every default", () => {
    expect(
      resolveManifest({ name: "a", files: [{ path: "/x", content: "y" }], services: [{ name: "web", run: "httpd" }] }),
    ).toEqual({
      name: "a",
      flavour: "dev",
      epoch: 1577836800,
      base: { release: "4.x", arch: "x86", iso: "Core-current.iso" },
      mirror: "http://distro.ibiblio.org/tinycorelinux",
      extensions: { builtin: [], mirror: [], local: [] },
      gems: { source: "https://rubygems.org", require: [] },
      files: [{ path: "/x", content: "y", mode: "0644", owner: "0:0" }],
      services: [{ name: "web", run: "httpd", log: "/var/log/web.log" }],
      flavours: { prod: { exclude: [] } },
      boot: { append: [] },
    });
    expect(resolveManifest(manifest).extensions.builtin).toEqual(["bash"]);
  });
});
