// Razor's two steps with the repository's default lists (bundle with -b/-m/-p, then
// rebuild-iso 0.9.0.1) boot to Tiny Core's "Setting hostname". manifests/hello-service.yaml
// (x86_64, its page fetched from the host) and manifests/hello-core4.yaml (4.x) are built and
// boot-tested by the README's own commands (readme.test.ts).
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { mkbundleAsync } from "../helpers/cli.js";
import { fixturesDir, repoRoot } from "../helpers/paths.js";
import { tempDir } from "../helpers/tmp.js";

const { dir } = tempDir("mkbundle-examples-");
const wd = join(dir, "wd");
const mirror = () => join(fixturesDir(), "tinycore");

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
