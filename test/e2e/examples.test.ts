// The examples users start from boot and do what they say: manifests/hello-service.yaml
// serves its page (proven by the page itself on the console), and Razor's two steps
// (bundle with -b/-m/-p, then rebuild-iso 0.9.0.1) boot to Tiny Core's "Setting hostname".
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { mkbundleAsync } from "../helpers/cli.js";
import { fixturesDir, repoRoot } from "../helpers/paths.js";
import { tempDir } from "../helpers/tmp.js";

const { dir, write } = tempDir("mkbundle-examples-");
const wd = join(dir, "wd");
const mirror = () => join(fixturesDir(), "tinycore");

describe("the examples in manifests/", () => {
  it("hello-service builds against the fixture mirror and boots", async () => {
    const out = join(dir, "example");
    // A copy, so that the lock it writes stays out of the repository.
    const copy = write(
      "example/hello-service.yaml",
      readFileSync(join(repoRoot, "manifests/hello-service.yaml"), "utf8"),
    );
    const r = await mkbundleAsync(["build", copy, "--mirror", mirror(), "--work-dir", wd, "--out", out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(join(out, "hello-service-prod-1.0.0.iso"));
    // The service's own output: the page it serves, fetched over the guest's loopback by the selftest service.
    const t = await mkbundleAsync([
      "test",
      r.stdout.trim(),
      "--expect",
      "selftest: <p>Hello from a Tiny Core microkernel",
      "--expect",
      "hello: answered GET /",
      "--timeout",
      "150",
    ]);
    expect(t.code, t.stderr.slice(-3000)).toBe(0);
  }, 240_000);
});

describe("Razor's two steps", () => {
  it("bundle with -b/-m/-p, rebuild-iso 0.9.0.1, and it boots", async () => {
    const out = join(dir, "razor");
    const b = await mkbundleAsync([
      "-b",
      join(repoRoot, "extensions.lst"),
      "-m",
      join(repoRoot, "mirror.lst"),
      "-p",
      "--mirror",
      mirror(),
      "--work-dir",
      wd,
      "--out",
      out,
    ]);
    expect(b.code, b.stderr).toBe(0);
    const r = await mkbundleAsync(["rebuild-iso", "0.9.0.1", "--out", out]);
    expect(r.code, r.stderr).toBe(0);
    const iso = join(out, "rz_mk_prod-image.0.9.0.1.iso");
    expect(r.stdout.trim()).toBe(iso);
    const t = await mkbundleAsync([
      "test",
      "--kernel",
      "--append",
      "console=ttyS0",
      "--expect",
      "Setting hostname",
      iso,
      "--timeout",
      "150",
    ]);
    expect(t.code, t.stderr.slice(-3000)).toBe(0);
  }, 240_000);
});
