// The outputs table, in-process: a format is one entry (a dummy one here, added by this test
// alone), --format picks formats, every file lands in SHA256SUMS, and no output may be
// written outside --out.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { runBundle } from "../../src/context/pipeline.js";
import { DEFAULT_LIMITS } from "../../src/formats/limits.js";
import { MkError } from "../../src/errors.js";
import type { OutputMaker } from "../../src/remaster/output.js";
import { OUTPUTS } from "../../src/remaster/outputs.js";
import { insideOut, rebuildIso } from "../../src/remaster/rebuild.js";
import { fixturesDir } from "../helpers/paths.js";
import { sh, q } from "../helpers/run.js";
import { stageRun, testSession } from "../helpers/stage.js";
import { tempDir } from "../helpers/tmp.js";

const { dir, write } = tempDir("mkbundle-outputs-");
let bundle: string;

beforeAll(async () => {
  const file = write(
    "m/m.yaml",
    "name: outs\nversion: 1.0.0\nbase:\n  iso: Core-4.4.iso\nfiles:\n  - path: /etc/motd\n    content: hi\n",
  );
  const s = testSession({ mirror: join(fixturesDir(), "tinycore"), workDir: join(dir, "wd"), out: join(dir, "out") });
  const run = stageRun(s, file);
  const r = await runBundle(s, run, {});
  bundle = r.bundle.path;
});

describe("the outputs table", () => {
  it("adding a format is one entry; it gets the prepared remaster and its files are summed", async () => {
    const dummy: OutputMaker = async (p, write) => [
      await write(join(p.out, `${p.name}-${p.flavour}-${p.version}.kernel-line`), [
        Buffer.from(`${p.bootLine.join(" ")}\n`),
      ]),
    ];
    const out = join(dir, "out");
    const r = await rebuildIso(
      { bundle, out, limits: DEFAULT_LIMITS, formats: ["dummy", "pxe"] },
      { ...OUTPUTS, dummy },
    );
    expect(r.outputs.map((o) => o.format)).toEqual(["dummy", "pxe"]);
    expect(r.iso).toBeUndefined();
    expect(readFileSync(join(out, "outs-dev-1.0.0.kernel-line"), "utf8")).toBe("loglevel=3 nozswap\n");
    expect(existsSync(join(out, "outs-dev-1.0.0.iso"))).toBe(false);
    expect(sh(`cd ${q(out)} && sha256sum -c SHA256SUMS`).toString()).toContain("outs-dev-1.0.0.kernel-line: OK");
  });

  it("an unknown format is a usage error naming the known ones", async () => {
    await expect(
      rebuildIso({ bundle, out: join(dir, "out"), limits: DEFAULT_LIMITS, formats: ["iso", "floppy"] }),
    ).rejects.toThrow(/unknown output format floppy \(known: iso, pxe, sbom, esp, data, disk\)/);
  });

  it("without persist: asking for the data partition or the disk image says why not", async () => {
    for (const f of ["data", "disk"])
      await expect(
        rebuildIso({ bundle, out: join(dir, "out-data"), limits: DEFAULT_LIMITS, formats: [f] }),
      ).rejects.toThrow(new RegExp(`--format ${f}: the manifest has no persist: key`));
  });

  it("without boot.uefi the default writes no ESP, and asking for one says why not", async () => {
    const out = join(dir, "out-default");
    const r = await rebuildIso({ bundle, out, limits: DEFAULT_LIMITS });
    expect(r.outputs.map((o) => o.format)).toEqual(["iso", "pxe", "sbom"]);
    await expect(rebuildIso({ bundle, out, limits: DEFAULT_LIMITS, formats: ["esp"] })).rejects.toThrow(
      /--format esp: the manifest has no boot\.uefi/,
    );
  });

  it("a path outside --out is refused, whatever a format or a bundle asks for", async () => {
    expect(() => insideOut("out", "out/../../etc/x")).toThrow(MkError);
    expect(() => insideOut("out", "/tmp/x")).toThrow(/outside the output directory out/);
    expect(insideOut("out", "out/pxe/a/b")).toBe("out/pxe/a/b");
    const escape: OutputMaker = async (p, write) => [await write(join(p.out, "..", "escaped"), [Buffer.from("x")])];
    await expect(
      rebuildIso({ bundle, out: join(dir, "out"), limits: DEFAULT_LIMITS, formats: ["escape"] }, { escape }),
    ).rejects.toThrow(/refusing to write .*escaped: it is outside the output directory/);
    expect(existsSync(join(dir, "escaped"))).toBe(false);
  });
});
