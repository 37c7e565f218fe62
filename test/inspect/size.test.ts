// mkbundle size on an image built from the x86_64 fixture with a builtin extension and
// boot.uefi (so efi.img holds the kernel and initrd the ISO also lists): the components,
// each byte counted once, plus the ISO's own structure, are the ISO's size; an initrd's
// unpacked size is what gzip -dc gives; an extension's is the sum of unsquashfs -lls's file
// sizes; --json validates against schemas/size-report.schema.json; a file that is no ISO is
// refused with exit 2.
import { createHash } from "node:crypto";
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import type { SizeReport } from "../../src/inspect/size.js";
import { loadValidator } from "../../src/manifest/schema.js";
import { buildOnFixtures, mkbundleIn } from "../helpers/cli.js";
import { repoRoot } from "../helpers/paths.js";
import { q, sh } from "../helpers/run.js";
import { tempDir } from "../helpers/tmp.js";

const { dir, write } = tempDir("mkbundle-size-");
const LOADER = "/usr/lib/systemd/boot/efi/systemd-bootx64.efi"; // Debian's systemd-boot-efi, installed by .ci/run
const sha = (f: string) => createHash("sha256").update(readFileSync(f)).digest("hex");

const buildIso = (manifest: string, out: string, env: Record<string, string> = {}) =>
  buildOnFixtures(manifest, { workDir: join(dir, "wd"), out: join(dir, out) }, ["--format", "iso"], env);

describe("mkbundle size", () => {
  it("adds up to the ISO, agrees with gzip and unsquashfs, and validates against its schema", async () => {
    const m = write(
      "app/sized.yaml",
      `name: sized
version: 1.0.0
base: { release: 10.x, arch: x86_64, iso: CorePure64-10.1.iso }
extensions:
  builtin: [dosfstools]
boot:
  uefi:
    loader: { url: ${LOADER}, sha256: ${sha(LOADER)} }
`,
    );
    const built = await buildIso(m, "out", { SOURCE_DATE_EPOCH: "1700000000" });
    expect(built.code, built.stderr).toBe(0);
    const iso = built.stdout.trim();
    const r = await mkbundleIn(["size", iso, "--json", "--top", "3"]);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as SizeReport;
    const validate = loadValidator("size-report");
    expect(validate(report), JSON.stringify(validate.errors)).toBe(true);

    // Each byte once: the parts (less what they share) and the ISO's own structure.
    const top = report.components.filter((c) => !c.path.includes(" > "));
    expect(top.reduce((n, c) => n + c.bytes - c.shared, 0) + report.overhead).toBe(readFileSync(iso).length);
    expect(report.overhead).toBeGreaterThan(0);
    expect(report.overhead).toBeLessThan(1024 * 1024);
    const esp = report.components.find((c) => c.kind === "esp")!;
    const kernel = report.components.find((c) => c.kind === "kernel")!;
    const initrd = report.components.find((c) => c.kind === "initrd")!;
    expect(esp.shared).toBe(kernel.bytes + initrd.bytes);

    // Unpacked, as gzip and unsquashfs count.
    const core = join(dir, "core.gz");
    sh(`xorriso -osirrox on -indev ${q(iso)} -extract /${initrd.path} ${q(core)} 2>/dev/null`);
    expect(initrd.unpacked).toBe(
      Number(
        sh(`gzip -dc ${q(core)} | wc -c`)
          .toString()
          .trim(),
      ),
    );
    expect(initrd.ram).toBe(initrd.unpacked);
    const ext = report.components.find((c) => c.kind === "extension")!;
    expect(ext.path).toBe(`${initrd.path} > tmp/builtin/optional/dosfstools.tcz`);
    const tcz = join(dir, "dosfstools.tcz");
    sh(
      `zcat ${q(core)} | (cd ${q(dir)} && cpio -i --quiet --to-stdout tmp/builtin/optional/dosfstools.tcz) > ${q(tcz)}`,
    );
    expect(ext.bytes).toBe(readFileSync(tcz).length);
    const lls = sh(`unsquashfs -lls ${q(tcz)}`)
      .toString()
      .split("\n")
      .filter((l) => l.startsWith("-"));
    expect(ext.unpacked).toBe(lls.reduce((n, l) => n + Number(l.trim().split(/\s+/)[2]), 0));
    expect(ext.files).toBe(lls.length);
    // The largest directories: --top 3 at each level, the rest summed, adding up to their parent.
    const level = initrd.tree!.children!;
    expect(level).toHaveLength(4);
    expect(level[3]!.path).toMatch(/^\(\d+ more\)$/);
    expect(level.reduce((n, c) => n + c.bytes, 0)).toBe(initrd.tree!.bytes);

    const text = await mkbundleIn(["size", iso]);
    expect(text.stdout).toMatch(/^initrd +\d.* boot\/corepure64\.gz$/m);
    expect(text.stdout).toMatch(/^esp .* efi\.img \(and [\d.]+ MiB counted above: it holds them\)$/m);
    const notIso = await mkbundleIn(["size", core]);
    expect(notIso.code).toBe(2);
    expect(notIso.stderr).toContain("not an ISO");
  });

  it("--html: a page that renders offline in Chromium, areas in proportion to bytes, zooming into a part", async () => {
    const hostile = "<img id=injected src=x onerror=alert(1)>";
    const m = write(
      "page/page.yaml",
      `name: page
version: 1.0.0
base: { release: 10.x, arch: x86_64, iso: CorePure64-10.1.iso }
extensions:
  builtin: [dosfstools]
files:
  - path: "/opt/${hostile}"
    content: "a name that is markup\\n"
`,
    );
    const built = await buildIso(m, "page-out");
    expect(built.code, built.stderr).toBe(0);
    const page = join(dir, "size.html");
    const r = await mkbundleIn(["size", built.stdout.trim(), "--html", page, "--json", "--depth", "1"]);
    expect(r.code, r.stderr).toBe(0);
    // --json still cut to --depth 1 although the page goes down to files.
    const report = JSON.parse(r.stdout) as SizeReport;
    expect(report.components.find((c) => c.kind === "initrd")!.tree!.children!.every((c) => !c.children)).toBe(true);
    const html = readFileSync(page, "utf8");
    expect(html).not.toMatch(/\b(src|href)=["']?(https?:)?\/\//); // nothing fetched
    expect(html).toContain("default-src 'none'");

    const data = JSON.parse(/<script id="data" type="application\/json">(.*)<\/script>/.exec(html)![1]!) as PageNode;
    const initrd = data.children!.findIndex((c) => c.name === "boot/corepure64.gz");
    const opt = data.children![initrd]!.children!.findIndex((c) => c.name === "opt");
    for (const level of ["", `${initrd}`, `${initrd}.${opt}`]) {
      const dom = dumpDom(`${pathToFileURL(page).href}#${level}`);
      expect(dom).toMatch(/<html[^>]* data-rendered="yes"/);
      expect(dom).not.toContain("data-errors");
      expect(dom).toContain(`<div id="map" data-level="${level}">`);
      expect(dom).not.toContain('id="injected"');
      const cells = [
        ...dom.matchAll(
          /<div class="cell[^"]*" data-name="([^"]*)" data-bytes="(\d+)"[^>]* style="left: ([\d.]+)px; top: ([\d.]+)px; width: ([\d.]+)px; height: ([\d.]+)px;/g,
        ),
      ].map((x) => ({
        name: x[1]!,
        bytes: Number(x[2]),
        area: Number(x[5]) * Number(x[6]),
        right: Number(x[3]) + Number(x[5]),
        bottom: Number(x[4]) + Number(x[6]),
      }));
      expect(cells.length).toBeGreaterThan(1);
      const bytes = cells.reduce((n, c) => n + c.bytes, 0);
      const area = cells.reduce((n, c) => n + c.area, 0);
      expect(Math.abs(area - 960 * 600) / (960 * 600)).toBeLessThan(0.001);
      for (const c of cells) {
        expect(Math.abs(c.area / area - c.bytes / bytes), c.name).toBeLessThanOrEqual(0.01 * (c.bytes / bytes) + 1e-5);
        expect(c.right).toBeLessThanOrEqual(960.01);
        expect(c.bottom).toBeLessThanOrEqual(600.01);
      }
      if (level === "")
        expect(cells.map((c) => c.name)).toEqual(
          expect.arrayContaining(["boot/vmlinuz64", "boot/corepure64.gz", "ISO structure"]),
        );
      if (level === `${initrd}`) {
        expect(cells.map((c) => c.name)).toEqual(expect.arrayContaining(["lib", "usr", "opt", "tmp"]));
        expect(dom).toMatch(
          /<nav id="crumbs"><a href="#">[^<]+<\/a> › <a href="#\d+">boot\/corepure64\.gz<\/a><\/nav>/,
        );
      }
      if (level === `${initrd}.${opt}`)
        expect(cells.map((c) => c.name.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&"))).toContain(
          hostile,
        );
    }
    // The picture a person sees, kept with the test's output.
    const shot = join(repoRoot, "test-artifacts", "size-treemap.png");
    mkdirSync(dirname(shot), { recursive: true });
    rmSync(shot, { force: true });
    chromium(["--window-size=1400,760", `--screenshot=${shot}`, `${pathToFileURL(page).href}#${initrd}`]);
    expect(readFileSync(shot).subarray(1, 4).toString()).toBe("PNG");
  }, 120_000);
});

/** Debian's chromium, headless (as root it needs --no-sandbox); what it prints on stdout. */
function chromium(args: string[]): string {
  const r = spawnSync(
    "chromium",
    ["--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=5000", ...args],
    {
      encoding: "utf8",
      timeout: 60_000,
    },
  );
  if (r.status !== 0) throw new Error(`chromium ${args.join(" ")}: exit ${r.status} ${r.stderr}`);
  return r.stdout;
}

const dumpDom = (url: string) => chromium(["--dump-dom", url]);

interface PageNode {
  name: string;
  children?: PageNode[];
}
