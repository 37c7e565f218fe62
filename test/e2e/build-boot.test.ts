// Issue 7's acceptance, end to end under QEMU (software emulation): a manifest built with
// `mkbundle build` boots and its service comes up, as a full remaster, with
// --append-initrd, and through --kernel; Razor's two steps boot to "Setting hostname".
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { mkbundleAsync } from "../helpers/cli.js";
import { bootUntil } from "../helpers/qemu.js";
import { fixturesDir, repoRoot } from "../helpers/paths.js";
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
    const r = await mkbundleAsync(["test", iso, "--expect", MARKER, "--expect", "GNU bash, version", "--timeout", "150"]);
    expect(r.code, r.stderr.slice(-3000)).toBe(0);
  }, 240_000);

  it("the PXE files boot as boot.ipxe says", async () => {
    const out = join(dir, "full");
    await build(out); // unchanged stages are skipped when the test above built it
    const pxe = join(out, "pxe", "hello-dev-1.0.0");
    const script = readFileSync(join(pxe, "boot.ipxe"), "utf8");
    const kernelLine = /^kernel (\S+) (.*)$/m.exec(script)!;
    const initrd = /^initrd (\S+)$/m.exec(script)![1]!;
    const append = kernelLine[2]!.split(" ").filter((c) => !c.startsWith("initrd=")).join(" ");
    expect(append).toBe("loglevel=3 nozswap console=ttyS0");
    const r = await bootUntil({ kernel: join(pxe, kernelLine[1]!), initrd: join(pxe, initrd), append }, new RegExp(MARKER), 150);
    expect(r.matched, r.console.slice(-2000)).toBe(true);
  }, 240_000);

  it("--append-initrd, from the ISO", async () => {
    const iso = await build(join(dir, "append"), ["--append-initrd"]);
    const r = await mkbundleAsync(["test", iso, "--expect", MARKER, "--expect", "GNU bash, version", "--timeout", "150"]);
    expect(r.code, r.stderr.slice(-3000)).toBe(0);
  }, 240_000);

  it("mkbundle test --kernel", async () => {
    const iso = await build(join(dir, "kernel"));
    const r = await mkbundleAsync(["test", "--kernel", iso, "--expect", MARKER, "--expect", "GNU bash, version", "--timeout", "150"]);
    expect(r.code, r.stderr.slice(-3000)).toBe(0);
  }, 240_000);

  it("two builds give the same ISO", async () => {
    const env = { SOURCE_DATE_EPOCH: "1700000000" };
    const [a, b] = [join(dir, "repro-a"), join(dir, "repro-b")];
    const ra = await mkbundleAsync(["build", manifest, "--json", "--mirror", mirror(), "--work-dir", wd, "--out", a], { env });
    const rb = await mkbundleAsync(["build", manifest, "--json", "--mirror", mirror(), "--work-dir", wd, "--out", b], { env });
    const sha = (r: { stdout: string }) => (JSON.parse(r.stdout) as { iso: { sha256: string } }).iso.sha256;
    expect(sha(ra)).toBe(sha(rb));
  }, 120_000);
});

describe("the examples in manifests/", () => {
  it("hello-service builds against the fixture mirror and boots", async () => {
    const out = join(dir, "example");
    // A copy, so that the lock it writes stays out of the repository.
    const copy = write("example/hello-service.yaml", readFileSync(join(repoRoot, "manifests/hello-service.yaml"), "utf8"));
    const r = await mkbundleAsync(["build", copy, "--mirror", mirror(), "--work-dir", wd, "--out", out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(join(out, "hello-service-prod-1.0.0.iso"));
    // The service's own output: the page it serves, fetched over the guest's loopback by the selftest service.
    const t = await mkbundleAsync(["test", r.stdout.trim(), "--expect", "selftest: <p>Hello from a Tiny Core microkernel", "--expect", "hello: answered GET /", "--timeout", "150"]);
    expect(t.code, t.stderr.slice(-3000)).toBe(0);
  }, 240_000);
});

describe("Razor's two steps", () => {
  it("bundle with -b/-m/-p, rebuild-iso 0.9.0.1, and it boots", async () => {
    const out = join(dir, "razor");
    const b = await mkbundleAsync(["-b", join(repoRoot, "extensions.lst"), "-m", join(repoRoot, "mirror.lst"), "-p", "--mirror", mirror(), "--work-dir", wd, "--out", out]);
    expect(b.code, b.stderr).toBe(0);
    const r = await mkbundleAsync(["rebuild-iso", "0.9.0.1", "--out", out]);
    expect(r.code, r.stderr).toBe(0);
    const iso = join(out, "rz_mk_prod-image.0.9.0.1.iso");
    expect(r.stdout.trim()).toBe(iso);
    const t = await mkbundleAsync(["test", "--kernel", "--append", "console=ttyS0", "--expect", "Setting hostname", iso, "--timeout", "150"]);
    expect(t.code, t.stderr.slice(-3000)).toBe(0);
  }, 240_000);
});
