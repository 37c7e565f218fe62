// Hostile inputs cost little: each is refused (or, when it is legitimately large, streamed)
// in bounded time and memory, with a one-line error and no stack trace, whether it is opened
// by `ls`/`cat` or reaches the pipeline as a builtin, an `extract:` source or the base ISO.
// Time and peak RSS come from GNU time around the real CLI.
import { spawn, spawnSync } from "node:child_process";
import { cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN, cleanEnv, mkbundleIn } from "../helpers/cli.js";
import {
  deepManifest,
  deflateMemberBundle,
  differentialBundles,
  fatSharedTailBomb,
  hugeTimeTar,
  isoOverlapBomb,
  manyEntriesCpio,
  manyKeysManifest,
  paxGlobalTar,
  sparseCrcCpio,
} from "../helpers/bombs.js";
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
  /** CPU seconds (user + system): what the input cost, whatever else the machine runs meanwhile. */
  seconds: number;
  /** Wall-clock seconds, reported. */
  wall: number;
  rssMiB: number;
}

/** Runs the CLI under GNU time; stdout is counted, never kept. */
function measured(args: string[], env: Record<string, string> = {}): Measured {
  const timeFile = join(dir, "time.txt");
  const errFile = join(dir, "stderr.txt");
  const r = spawnSync(
    "bash",
    [
      "-c",
      `/usr/bin/time -f '%M %e %U %S' -o ${q(timeFile)} ${q(process.execPath)} ${q(BIN)} ${args.map(q).join(" ")} 2>${q(errFile)} | wc -c; exit \${PIPESTATUS[0]}`,
    ],
    { env: cleanEnv(env), encoding: "utf8", timeout: 120_000 },
  );
  const [kib, wall, user, sys] = readFileSync(timeFile, "utf8").trim().split("\n").pop()!.split(" ").map(Number);
  return {
    code: r.status ?? -1,
    stderr: readFileSync(errFile, "utf8"),
    stdoutBytes: Number(r.stdout.trim()),
    seconds: user! + sys!,
    wall: wall!,
    rssMiB: kib! / 1024,
  };
}

const report: string[] = [];
afterAll(() => {
  // The numbers behind the closing note: what each hostile input cost.
  console.log(`hostile inputs (limit ${MAX_SECONDS} s CPU, ${MAX_RSS_MIB} MiB):\n${report.join("\n")}`);
});

/** What an input cost, for the report. */
const record = (name: string, r: Measured) =>
  report.push(
    `  ${name}: exit ${r.code}, ${r.seconds.toFixed(2)} s CPU (${r.wall.toFixed(2)} s wall), ${r.rssMiB.toFixed(0)} MiB`,
  );

/** Refused: the exit status, one line naming the problem, bounded time and memory. */
function expectRefused(name: string, r: Measured, status: 1 | 2, says: RegExp): void {
  record(name, r);
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
    record("sparse 2 GiB file (cat, streamed)", r);
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
    record("nested tar.gz x5 (ls)", ls);
    expect(ls.code, ls.stderr).toBe(0);
    expect(ls.rssMiB).toBeLessThan(MAX_RSS_MIB);
    const cat = measured(["cat", nested.path, ...nested.inner]);
    record("nested tar.gz x5 (cat 200 MiB)", cat);
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

  it("a FIFO or /dev/zero as a local base url is refused before a byte is read", () => {
    const fifo = join(dir, "base.fifo");
    sh(`mkfifo ${q(fifo)}`);
    for (const url of [fifo, "/dev/zero"])
      expectRefused(
        `${url} as base.url (bundle)`,
        bundle("special-url", `base: { url: ${url}, sha256: "${"a".repeat(64)}" }\n`),
        1,
        /is not a regular file \(a directory, a FIFO, a device or a socket\)/,
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

// Structure-aware bombs (test/helpers/bombs.ts): each aimed at a way to make a reader spend
// without end. Refused, or handled, in bounded time and memory, and never deaf to signals.
describe("structure-aware bombs through ls, validate and rebuild-iso", () => {
  const b: Record<string, string> = {};
  beforeAll(() => {
    b["overlap"] = isoOverlapBomb(join(dir, "overlap.iso"));
    b["tail"] = fatSharedTailBomb(join(dir, "tail.img"));
    // The shared-tail FAT as an ISO's efi.img, where a UEFI ISO keeps its ESP.
    b["tailIso"] = join(dir, "tail-in.iso");
    sh(`xorriso -as mkisofs -quiet -o ${q(b["tailIso"])} -graft-points efi.img=${q(b["tail"])} 2>/dev/null`);
    b["pax"] = paxGlobalTar(join(dir, "pax-global.tar"));
    b["time"] = hugeTimeTar(join(dir, "huge-time.tar"));
    b["sparse"] = sparseCrcCpio(join(dir, "sparse-crc.cpio"));
    b["many"] = manyEntriesCpio(join(dir, "many.cpio"));
    b["keys"] = manyKeysManifest(join(dir, "many-keys.yaml"));
    b["deep"] = deepManifest(join(dir, "deep.yaml"));
    b["deflate"] = deflateMemberBundle(join(dir, "deflate-bundle.tar.gz"));
  }, 120_000);

  it("an ISO of 2,000 directories sharing one 64 MiB region is refused by the visit budget", () => {
    expectRefused(
      "ISO overlapping directories (ls)",
      measured(["ls", b["overlap"]!]),
      1,
      /overlap\.iso \(iso9660\): directory 'd\d+': reading its structure visits more than 268435456 bytes/,
    );
  });

  it("a FAT32 of 60,000 directories sharing one chain tail is refused, alone and as an ISO's efi.img", () => {
    expectRefused(
      "FAT shared tail (ls)",
      measured(["ls", b["tail"]!]),
      1,
      /tail\.img \(fat\): directory 'D\d+': reading its structure visits more than 268435456 bytes/,
    );
    expectRefused(
      "FAT shared tail as efi.img in an ISO (ls)",
      measured(["ls", b["tailIso"]!, "efi.img"]),
      1,
      /tail-in\.iso > efi\.img \(fat\): directory 'D\d+': reading its structure visits more/,
    );
  });

  it("a tar of 2,000 pax global headers is refused once their records pass 1 MiB", () => {
    const sizes = sh(`tar -tvf ${q(b["pax"]!)} | tail -1`).toString();
    expect(sizes).toContain("after"); // GNU tar reads it: it is a valid archive
    expectRefused(
      "pax global headers (ls)",
      measured(["ls", b["pax"]!]),
      1,
      /pax-global\.tar \(tar\): pax global headers hold more than 1048576 bytes of records/,
    );
  });

  it("a base-256 mtime beyond any date is a one-line error", () => {
    expectRefused(
      "base-256 mtime (ls)",
      measured(["ls", b["time"]!]),
      1,
      /huge-time\.tar \(tar\): mtime is out of range/,
    );
  });

  it("a sparse 1.5 GiB member of a CRC cpio is listed without reading it, and its sum checked as cat streams it", () => {
    const r = measured(["ls", b["sparse"]!]);
    record("sparse 1.5 GiB CRC cpio (ls)", r);
    expect(r.code, r.stderr).toBe(0);
    expect(r.seconds).toBeLessThan(MAX_SECONDS);
    expect(r.rssMiB).toBeLessThan(MAX_RSS_MIB);
    const cat = measured(["cat", b["sparse"]!, "zeros"]);
    expect(cat.code, cat.stderr).toBe(0);
    expect(cat.stdoutBytes).toBe(1.5 * 1024 ** 3);
    expect(cat.rssMiB).toBeLessThan(MAX_RSS_MIB);
  });

  it("a cpio of 999,000 entries is listed as it is read, in bounded memory", () => {
    const r = measured(["ls", b["many"]!]);
    record("999,000-entry cpio (ls)", r);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdoutBytes).toBeGreaterThan(999_000 * 40);
    expect(r.seconds).toBeLessThan(MAX_SECONDS);
    expect(r.rssMiB).toBeLessThan(MAX_RSS_MIB);
  });

  it("a manifest of 190,000 keys and one nested 100,000 deep are one-line errors", () => {
    expectRefused(
      "190,000 keys (validate)",
      measured(["validate", b["keys"]!]),
      2,
      /many-keys\.yaml:\d+:\d+: more than 100000 values/,
    );
    expectRefused(
      "100,000 levels (validate)",
      measured(["validate", b["deep"]!]),
      2,
      /deep\.yaml:2:\d+: nests deeper than 64 levels/,
    );
  });

  it("a bundle of 12 deflated 80 MiB members is refused by ls and rebuild-iso within 64 MiB of inflating", () => {
    expectRefused(
      "deflate-member bundle (ls)",
      measured(["ls", b["deflate"]!]),
      1,
      /\(bundle\): .*inflates to more than/,
    );
    expectRefused(
      "deflate-member bundle (rebuild-iso)",
      measured(["rebuild-iso", "--bundle", b["deflate"]!, "--out", join(dir, "deflate-out")]),
      1,
      /inflates to more than/,
    );
  });

  /**
   * `ls` of a bomb with its budgets raised (so it would run for minutes), signalled after
   * `after` ms: it must be gone within a second, with the signal's exit status.
   */
  const interrupted = async (file: string[], signal: "SIGINT" | "SIGTERM", after = 700) => {
    const child = spawn(process.execPath, [BIN, "ls", ...file], {
      env: cleanEnv({ MKBUNDLE_MAX_METADATA: "1T", MKBUNDLE_MAX_ENTRIES: "1000000000" }),
      stdio: ["ignore", "ignore", "pipe"],
    });
    const exited = new Promise<{ code: number | null; at: number }>((resolve) =>
      child.on("exit", (code) => resolve({ code, at: Date.now() })),
    );
    await new Promise((r) => setTimeout(r, after));
    const running = child.exitCode === null;
    const sent = Date.now();
    child.kill(signal);
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    const { code, at } = await exited;
    clearTimeout(timer);
    report.push(
      `  ${signal} to ls ${file.map((f) => f.split("/").pop()).join(" ")}: gone in ${at - sent} ms, exit ${code}`,
    );
    return { running, code, ms: at - sent };
  };

  it.each(["SIGINT", "SIGTERM"] as const)(
    "%s ends ls on each bomb within a second, budgets raised",
    async (signal) => {
      const status = signal === "SIGINT" ? 130 : 143;
      for (const file of [[b["overlap"]!], [b["tail"]!], [b["tailIso"]!, "efi.img"], [b["many"]!]]) {
        const r = await interrupted(file, signal);
        expect(r.running, `${file.join(" ")} was still working when signalled`).toBe(true);
        expect(r.code, file.join(" ")).toBe(status);
        expect(r.ms, file.join(" ")).toBeLessThan(1000);
      }
    },
    60_000,
  );
});

describe("a bundle that reads one way in gzip and another in mkbundle", () => {
  const mirror = join(dir, "diff-mirror");
  let variants: Record<string, string> = {};
  beforeAll(async () => {
    cpSync(join(fixturesDir(), "tinycore"), mirror, { recursive: true, dereference: true });
    const m = join(dir, "diff", "diff.yaml");
    mkdirSync(join(dir, "diff"), { recursive: true });
    writeFileSync(m, "name: diff\nflavour: dev\nbase: { iso: Core-4.4.iso }\n");
    const out = join(dir, "diff", "out");
    const r = await mkbundleIn(["bundle", m, "--mirror", mirror, "--work-dir", join(dir, "diff", "wd"), "--out", out]);
    expect(r.code, r.stderr).toBe(0);
    const bundle = join(
      out,
      readdirSync(out).find((f) => f.endsWith("-bundle-dev.tar.gz"))!,
    );
    variants = differentialBundles(bundle, join(dir, "diff"));
  }, 120_000);

  it("GNU tar sees the hidden member; ls, cat and rebuild-iso refuse every variant", () => {
    // The differential is real: plain gzip readers decode what a length-skipping reader would not.
    expect(sh(`tar -tzf ${q(variants["hidden"]!)} 2>/dev/null || true`).toString()).toContain("evil");
    for (const [name, file] of Object.entries(variants)) {
      const says = /\(bundle\)|bundle member|after the last|CRC-32|ISIZE|hidden data/;
      expectRefused(`${name} bundle (ls)`, measured(["ls", file]), 1, says);
      expectRefused(`${name} bundle (cat)`, measured(["cat", file, "bundle.json"]), 1, says);
      expectRefused(
        `${name} bundle (rebuild-iso)`,
        measured(["rebuild-iso", "--bundle", file, "--out", join(dir, "diff", `out-${name}`)]),
        1,
        says,
      );
    }
  });
});
