// --append-initrd on a large overlay: layers that the next build reuses. One changed file
// recompresses one layer; the image is the same bytes as one built with an empty cache; the
// kernel unpacks every layer (the changed file, in the last one, is what the service prints).
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { mkbundleAsync } from "../helpers/cli.js";
import { fixturesDir } from "../helpers/paths.js";
import { q, sh } from "../helpers/run.js";
import { tempDir } from "../helpers/tmp.js";

const { dir, write } = tempDir("mkbundle-layers-");

interface BuildJson {
  iso: { path: string; sha256: string };
  layers: { count: number; reused: number } | null;
}

async function build(workDir: string, out: string): Promise<BuildJson> {
  const r = await mkbundleAsync([
    "build",
    join(dir, "layers.yaml"),
    "--append-initrd",
    "--builtin",
    "load",
    "--format",
    "iso",
    "--json",
    "--mirror",
    join(fixturesDir(), "tinycore"),
    "--work-dir",
    workDir,
    "--out",
    out,
  ]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as BuildJson;
}

describe("--append-initrd layers", () => {
  it("reuses every unchanged layer, gives the bytes a fresh build gives, and boots with the change", async () => {
    mkdirSync(join(dir, "payload"));
    const files = Array.from({ length: 40 }, (_, i) => `blob-${String(i).padStart(2, "0")}.bin`);
    for (const f of files) writeFileSync(join(dir, "payload", f), randomBytes(1024 * 1024));
    write("payload/zz-marker.txt", "layer marker one\n");
    write(
      "layers.yaml",
      `name: layers
version: 1.0.0
flavour: dev
base:
  iso: Core-4.4.iso
files:
${[...files, "zz-marker.txt"].map((f) => `  - path: /opt/payload/${f}\n    source: payload/${f}`).join("\n")}
services:
  - name: marker
    run: cat /opt/payload/zz-marker.txt
    log: /dev/ttyS0
boot:
  append: [console=ttyS0]
  timeout: 0
`,
    );
    const wd = join(dir, "wd");
    const first = await build(wd, join(dir, "out"));
    expect(first.layers!.count).toBeGreaterThan(5);
    expect(first.layers!.reused).toBe(0);

    write("payload/zz-marker.txt", "layer marker two\n");
    const second = await build(wd, join(dir, "out"));
    expect(second.layers).toEqual({ count: first.layers!.count, reused: first.layers!.count - 1 });
    const fresh = await build(join(dir, "wd-fresh"), join(dir, "out-fresh"));
    expect(fresh.layers!.reused).toBe(0);
    expect(fresh.iso.sha256).toBe(second.iso.sha256);

    // Every layer is a whole newc archive: GNU cpio reads the first, and there are `count` trailers.
    const x = join(dir, "x");
    mkdirSync(x);
    sh(
      `xorriso -osirrox on -indev ${q(second.iso.path)} -extract /boot/layers.gz ${q(join(x, "layers.gz"))} 2>/dev/null`,
    );
    expect(
      Number(
        sh(`zcat ${q(join(x, "layers.gz"))} | grep -ac 'TRAILER!!!'`)
          .toString()
          .trim(),
      ),
    ).toBe(second.layers!.count);
    expect(sh(`zcat ${q(join(x, "layers.gz"))} | cpio -it --quiet`).toString()).toMatch(/^opt/m);

    const boot = await mkbundleAsync(["test", second.iso.path, "--expect", "layer marker two", "--timeout", "150"]);
    expect(boot.code, boot.stderr.slice(-3000)).toBe(0);
  }, 300_000);
});
