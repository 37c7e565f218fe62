// mkbundle size on an image built from the x86_64 fixture with a builtin extension and
// boot.uefi (so efi.img holds the kernel and initrd the ISO also lists): the components,
// each byte counted once, plus the ISO's own structure, are the ISO's size; an initrd's
// unpacked size is what gzip -dc gives; an extension's is the sum of unsquashfs -lls's file
// sizes; --json validates against schemas/size-report.schema.json; a file that is no ISO is
// refused with exit 2.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { SizeReport } from "../../src/inspect/size.js";
import { loadValidator } from "../../src/manifest/schema.js";
import { mkbundleIn } from "../helpers/cli.js";
import { fixturesDir } from "../helpers/paths.js";
import { q, sh } from "../helpers/run.js";
import { tempDir } from "../helpers/tmp.js";

const { dir, write } = tempDir("mkbundle-size-");
const LOADER = "/usr/lib/systemd/boot/efi/systemd-bootx64.efi"; // Debian's systemd-boot-efi, installed by .ci/run
const sha = (f: string) => createHash("sha256").update(readFileSync(f)).digest("hex");

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
    const built = await mkbundleIn(
      [
        "build",
        m,
        "--mirror",
        join(fixturesDir(), "tinycore"),
        "--work-dir",
        join(dir, "wd"),
        "--out",
        join(dir, "out"),
        "--format",
        "iso",
      ],
      { env: { SOURCE_DATE_EPOCH: "1700000000" } },
    );
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
});
