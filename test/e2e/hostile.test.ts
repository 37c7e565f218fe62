// Hostile inputs cost little: each is refused (or, when it is legitimately large, streamed)
// in bounded time and memory, with a one-line error and no stack trace, whether it is opened
// by `ls`/`cat` or reaches the pipeline as a builtin, an `extract:` source or the base ISO.
// Time and peak RSS come from GNU time around the real CLI.
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN, cleanEnv } from "../helpers/cli.js";
import {
  gzipBomb,
  isoChildLinkBomb,
  isoDagBomb,
  isoMultiExtentBomb,
  nestedTarGz,
  sparseSquashfs,
  squashfsDagBomb,
} from "../helpers/hostile.js";
import { fixturesDir } from "../helpers/paths.js";
import { q, sh } from "../helpers/run.js";
import { tempDir } from "../helpers/tmp.js";

const { dir } = tempDir("mkbundle-hostile-");
const MAX_SECONDS = 5;
const MAX_RSS_MIB = 300;

interface Measured {
  code: number;
  stderr: string;
  stdoutBytes: number;
  seconds: number;
  rssMiB: number;
}

/** Runs the CLI under GNU time; stdout is counted, never kept. */
function measured(args: string[]): Measured {
  const timeFile = join(dir, "time.txt");
  const errFile = join(dir, "stderr.txt");
  const r = spawnSync(
    "bash",
    [
      "-c",
      `/usr/bin/time -f '%M %e' -o ${q(timeFile)} ${q(process.execPath)} ${q(BIN)} ${args.map(q).join(" ")} 2>${q(errFile)} | wc -c; exit \${PIPESTATUS[0]}`,
    ],
    { env: cleanEnv(), encoding: "utf8", timeout: 120_000 },
  );
  const [kib, secs] = readFileSync(timeFile, "utf8").trim().split("\n").pop()!.split(" ").map(Number);
  return {
    code: r.status ?? -1,
    stderr: readFileSync(errFile, "utf8"),
    stdoutBytes: Number(r.stdout.trim()),
    seconds: secs!,
    rssMiB: kib! / 1024,
  };
}

const report: string[] = [];
afterAll(() => {
  // The numbers behind the closing note: what each hostile input cost.
  console.log(`hostile inputs (limit ${MAX_SECONDS} s, ${MAX_RSS_MIB} MiB):\n${report.join("\n")}`);
});

/** Refused: the exit status, one line naming the problem, bounded time and memory. */
function expectRefused(name: string, r: Measured, status: 1 | 2, says: RegExp): void {
  report.push(`  ${name}: exit ${r.code}, ${r.seconds.toFixed(2)} s, ${r.rssMiB.toFixed(0)} MiB`);
  expect(r.code, `${name}: ${r.stderr}`).toBe(status);
  expect(r.stderr, name).toMatch(says);
  expect(r.stderr, name).not.toMatch(/internal error|\n\s+at /);
  expect(r.seconds, name).toBeLessThan(MAX_SECONDS);
  expect(r.rssMiB, name).toBeLessThan(MAX_RSS_MIB);
}

const files: Record<string, string> = {};

beforeAll(() => {
  files["isoDag"] = isoDagBomb(dir);
  files["isoCl"] = isoChildLinkBomb(dir);
  files["isoMulti"] = isoMultiExtentBomb(dir);
  files["sqDag"] = squashfsDagBomb(dir);
  files["sparse1"] = sparseSquashfs(dir, "sparse-one", 1);
  files["sparse6"] = sparseSquashfs(dir, "sparse-six", 6);
  files["gzBomb"] = gzipBomb(join(dir, "bomb.gz"));
}, 120_000);

describe("hostile containers through ls and cat", () => {
  it("an ISO whose directories all share one child (2^30 paths) is refused", () => {
    expectRefused(
      "ISO DAG (ls)",
      measured(["ls", files["isoDag"]!]),
      1,
      /dag-bomb\.iso \(iso9660\): directory '.*' reuses the extent of another directory/,
    );
  });

  it("the Rock Ridge variant, two CL entries naming one relocated directory, is refused", () => {
    expectRefused(
      "ISO Rock Ridge CL DAG (ls)",
      measured(["ls", files["isoCl"]!]),
      1,
      /cl-bomb\.iso \(iso9660\): directory 'b\/.*' reuses the extent of another directory/,
    );
  });

  it("a squashfs whose directories share listings, claiming 2^32 inodes, is refused", () => {
    expectRefused(
      "squashfs DAG, inode_count 0xffffffff (ls)",
      measured(["ls", files["sqDag"]!]),
      1,
      /dag-bomb\.tcz \(squashfs\): directory '.*' reuses the listing of another directory/,
    );
  });

  it("a multi-extent ISO file that reuses one extent 400 times is refused by ls and by cat", () => {
    for (const args of [["ls"], ["cat"]]) {
      const r = measured([...args, files["isoMulti"]!, ...(args[0] === "cat" ? ["many/f0000.;1"] : [])]);
      expectRefused(
        `ISO multi-extent (${args[0]})`,
        r,
        1,
        /claim \d+ bytes in an image of \d+ \(extents used over and over\)/,
      );
    }
  });

  it("a sparse 2 GiB file streams out of a 4 KiB squashfs in bounded memory", () => {
    const r = measured(["cat", files["sparse1"]!, "big0"]);
    report.push(
      `  sparse 2 GiB file (cat, streamed): exit ${r.code}, ${r.seconds.toFixed(2)} s, ${r.rssMiB.toFixed(0)} MiB`,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdoutBytes).toBe(2 * 1024 ** 3);
    expect(r.rssMiB).toBeLessThan(MAX_RSS_MIB);
  });

  it("six sparse 2 GiB files pass the container's byte budget and are refused", () => {
    expectRefused(
      "six sparse 2 GiB files (ls)",
      measured(["ls", files["sparse6"]!]),
      1,
      /sparse-six\.tcz \(squashfs\): its files hold more than 4294967296 bytes \(the limit for one container\)/,
    );
  });

  it("a 10 GiB gzip bomb is stopped at its ceiling", () => {
    expectRefused("10 GiB gzip bomb (ls)", measured(["ls", files["gzBomb"]!]), 1, /a decompression bomb/);
  });

  it("tar.gz inside tar.gz, five layers deep, is listed and read in bounded memory", () => {
    const nested = nestedTarGz(dir);
    const ls = measured(["ls", nested.path, ...nested.inner.slice(0, -1)]);
    report.push(`  nested tar.gz x5 (ls): exit ${ls.code}, ${ls.seconds.toFixed(2)} s, ${ls.rssMiB.toFixed(0)} MiB`);
    expect(ls.code, ls.stderr).toBe(0);
    expect(ls.rssMiB).toBeLessThan(MAX_RSS_MIB);
    const cat = measured(["cat", nested.path, ...nested.inner]);
    report.push(
      `  nested tar.gz x5 (cat 200 MiB): exit ${cat.code}, ${cat.seconds.toFixed(2)} s, ${cat.rssMiB.toFixed(0)} MiB`,
    );
    expect(cat.code, cat.stderr).toBe(0);
    expect(cat.stdoutBytes).toBe(200 * 1024 * 1024);
    expect(cat.rssMiB).toBeLessThan(MAX_RSS_MIB);
  });

  it("/dev/zero is not a container", () => {
    expectRefused("/dev/zero (ls)", measured(["ls", "/dev/zero"]), 2, /\/dev\/zero: is not a regular file/);
  });
});

describe("hostile inputs through the pipeline", () => {
  const mirror = join(dir, "mirror");
  const tcz = join(mirror, "4.x/x86/tcz");
  const release = join(mirror, "4.x/x86/release");

  const addExtension = (name: string, path: string) => {
    cpSync(path, join(tcz, `${name}.tcz`));
    sh(`cd ${q(tcz)} && md5sum ${name}.tcz > ${name}.tcz.md5.txt`);
  };

  /** A manifest, bundled against the hostile mirror in a fresh work directory. */
  const bundle = (name: string, body: string): Measured => {
    const m = join(dir, "manifests", `${name}.yaml`);
    mkdirSync(join(dir, "manifests"), { recursive: true });
    writeFileSync(m, `name: ${name}\nflavour: dev\n${body}`);
    return measured([
      "bundle",
      m,
      "--mirror",
      mirror,
      "--work-dir",
      join(dir, "wd", name),
      "--out",
      join(dir, "out", name),
    ]);
  };

  beforeAll(() => {
    cpSync(join(fixturesDir(), "tinycore"), mirror, { recursive: true, dereference: true });
    addExtension("dag-bomb", files["sqDag"]!);
    addExtension("sparse-six", files["sparse6"]!);
    cpSync(files["isoDag"]!, join(release, "dag-bomb.iso"));
    // The real Core 4.4 ISO with its core.gz replaced by a 10 GiB gzip bomb.
    sh(
      `xorriso -indev ${q(join(release, "Core-4.4.iso"))} -outdev ${q(join(release, "bomb-initrd.iso"))} ` +
        `-map ${q(files["gzBomb"]!)} /boot/core.gz -boot_image any replay 2>/dev/null`,
    );
  }, 120_000);

  it("a builtin extension that is a directory DAG is refused, named", () => {
    expectRefused(
      "squashfs DAG as a builtin (bundle)",
      bundle("builtin-dag", "base: { iso: Core-4.4.iso }\nextensions: { builtin: [dag-bomb] }\n"),
      1,
      /dag-bomb\.tcz.*reuses the listing of another directory/,
    );
  });

  it("a builtin extension with six sparse 2 GiB files is refused, named", () => {
    expectRefused(
      "six sparse files as a builtin (bundle)",
      bundle("builtin-sparse", "base: { iso: Core-4.4.iso }\nextensions: { builtin: [sparse-six] }\n"),
      1,
      /sparse-six\.tcz.*more than 4294967296 bytes/,
    );
  });

  it("an extract: source that is a directory DAG is refused, named", () => {
    expectRefused(
      "squashfs DAG as an extract: source (bundle)",
      bundle(
        "extract-dag",
        "base: { iso: Core-4.4.iso }\nfiles:\n  - path: /opt/f\n    extract: { extension: dag-bomb, path: x/f }\n",
      ),
      1,
      /dag-bomb\.tcz.*reuses the listing of another directory/,
    );
  });

  it("a base ISO that is a directory DAG is refused, named", () => {
    expectRefused(
      "ISO DAG as the base (bundle)",
      bundle("base-dag", "base: { iso: dag-bomb.iso }\n"),
      1,
      /dag-bomb\.iso.*reuses the extent of another directory/,
    );
  });

  it("a base ISO whose core.gz is a 10 GiB gzip bomb is refused, named", () => {
    expectRefused(
      "gzip bomb as the base's core.gz (bundle)",
      bundle("base-gz-bomb", "base: { iso: bomb-initrd.iso }\n"),
      1,
      /core\.gz.*a decompression bomb/,
    );
  });
});
