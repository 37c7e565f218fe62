// A manifest built with `mkbundle build` boots under QEMU and its service comes up: as a
// full remaster, with --append-initrd, through --kernel, and from the PXE files as
// boot.ipxe says; two builds give the same ISO.
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { mkbundleAsync } from "../helpers/cli.js";
import { bootUntil, pxeBoot } from "../helpers/qemu.js";
import { fixturesDir } from "../helpers/paths.js";
import { tempDir } from "../helpers/tmp.js";

const { dir, write } = tempDir("mkbundle-e2e-");
const wd = join(dir, "wd");
const mirror = () => join(fixturesDir(), "tinycore");
const MARKER = "MKBUNDLE-E2E-MARKER-7f3a";
let manifest: string;

beforeAll(() => {
  manifest = write(
    "hello/hello.yaml",
    `name: hello
version: 1.0.0
base:
  iso: Core-4.4.iso
extensions:
  builtin: [bash, dmidecode]
services:
  - name: marker
    run: |
      echo ${MARKER}
      bash --version
    log: /dev/ttyS0
boot:
  append: [console=ttyS0]
  timeout: 0
`,
  );
});

async function build(out: string, extra: string[] = []): Promise<string> {
  const r = await mkbundleAsync(["build", manifest, ...extra, "--mirror", mirror(), "--work-dir", wd, "--out", out]);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.trim();
}

describe("built images boot and their service comes up", () => {
  it("full remaster, from the ISO", async () => {
    const iso = await build(join(dir, "full"));
    const r = await mkbundleAsync([
      "test",
      iso,
      "--expect",
      MARKER,
      "--expect",
      "GNU bash, version",
      "--timeout",
      "150",
    ]);
    expect(r.code, r.stderr.slice(-3000)).toBe(0);
  }, 240_000);

  it("the PXE files boot as boot.ipxe says", async () => {
    const out = join(dir, "full");
    await build(out); // unchanged stages are skipped when the test above built it
    const boot = pxeBoot(join(out, "pxe", "hello-dev-1.0.0"));
    expect(boot.append).toBe("loglevel=3 nozswap console=ttyS0");
    const r = await bootUntil(boot, new RegExp(MARKER), 150);
    expect(r.matched, r.console.slice(-2000)).toBe(true);
  }, 240_000);

  it("--append-initrd, from the ISO", async () => {
    const iso = await build(join(dir, "append"), ["--append-initrd"]);
    const r = await mkbundleAsync([
      "test",
      iso,
      "--expect",
      MARKER,
      "--expect",
      "GNU bash, version",
      "--timeout",
      "150",
    ]);
    expect(r.code, r.stderr.slice(-3000)).toBe(0);
  }, 240_000);

  it("mkbundle test --kernel", async () => {
    const iso = await build(join(dir, "kernel"));
    const r = await mkbundleAsync([
      "test",
      "--kernel",
      iso,
      "--expect",
      MARKER,
      "--expect",
      "GNU bash, version",
      "--timeout",
      "150",
    ]);
    expect(r.code, r.stderr.slice(-3000)).toBe(0);
  }, 240_000);

  it("two builds give the same ISO", async () => {
    const env = { SOURCE_DATE_EPOCH: "1700000000" };
    const [a, b] = [join(dir, "repro-a"), join(dir, "repro-b")];
    const ra = await mkbundleAsync(["build", manifest, "--json", "--mirror", mirror(), "--work-dir", wd, "--out", a], {
      env,
    });
    const rb = await mkbundleAsync(["build", manifest, "--json", "--mirror", mirror(), "--work-dir", wd, "--out", b], {
      env,
    });
    const sha = (r: { stdout: string }) => (JSON.parse(r.stdout) as { iso: { sha256: string } }).iso.sha256;
    expect(sha(ra)).toBe(sha(rb));
  }, 120_000);
});
