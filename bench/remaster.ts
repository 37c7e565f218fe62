// `npm run bench -- remaster`: bundles remastered by mkbundle and by Razor's shell recipe
// (unpack the ISO, zcat | cpio -idm, the overlay tar on top, find | cpio -o | gzip -9,
// xorriso -as mkisofs -boot-info-table), in one run, medians of 5 (MKBUNDLE_BENCH_REPS):
//   razor      the fixture base with Razor's default lists (prod)
//   large      the same base and a 200 MiB payload of /usr/lib files: a 200+ MiB initrd
//   iteration  the large image with one small file changed, rebuilt with --append-initrd
//              (its compressed layers from the previous build reused)
// Each scenario also gets the "limit" line: the shell's merged cpio compressed by
// `pigz -9 -p2` and the ISO by xorriso, the practical floor on two cores. Printed: times and
// their ratios to the shell recipe and to the limit, ISO sizes, and mkbundle's peak RSS.
// Also: an unchanged `mkbundle build` of the README's example (target <= 0.3 s).
// MKBUNDLE_BENCH_SCENARIOS=razor,large,build picks some (default: all).
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { median, shell } from "./measure.js";
import { buildTree } from "./tree.js";

const BIN = resolve(fileURLToPath(import.meta.url), "../../src/cli/main.js");
const ROOT = resolve(fileURLToPath(import.meta.url), "../../..");
const SCENARIOS = ["razor", "large", "build"];

/** MKBUNDLE_BENCH_REPS and MKBUNDLE_BENCH_SCENARIOS, checked before minutes of work: a typo is one line, exit 2. */
function settings(): { reps: number; picked: (name: string) => boolean } {
  const reps = process.env["MKBUNDLE_BENCH_REPS"] ?? "5";
  const only = process.env["MKBUNDLE_BENCH_SCENARIOS"]?.split(",");
  const unknown = only?.filter((n) => !SCENARIOS.includes(n)) ?? [];
  const fail = (message: string) => {
    console.error(message);
    process.exit(2);
  };
  if (!/^[1-9][0-9]?$/.test(reps)) fail(`MKBUNDLE_BENCH_REPS=${reps}: want a whole number of repetitions, 1 to 99`);
  if (unknown.length) fail(`MKBUNDLE_BENCH_SCENARIOS: unknown ${unknown.join(", ")}; known: ${SCENARIOS.join(", ")}`);
  return { reps: Number(reps), picked: (name) => !only || only.includes(name) };
}

function fixtures(): string {
  const dir = process.env["MKBUNDLE_FIXTURES"] ?? resolve(ROOT, "../shared/fixtures");
  if (!existsSync(dir)) throw new Error(`fixtures not found at ${dir}; set MKBUNDLE_FIXTURES`);
  return dir;
}
const mirror = () => join(fixtures(), "tinycore");

const mkbundle = (args: string[], cwd: string) =>
  execFileSync(process.execPath, [BIN, ...args], { cwd, stdio: ["ignore", "pipe", "pipe"] });

/** Peak resident memory (MiB) of one mkbundle run, from GNU time. */
function peakMiB(args: string[], cwd: string): number {
  const r = spawnSync("/usr/bin/time", ["-f", "%M", process.execPath, BIN, ...args], {
    cwd,
    stdio: ["ignore", "ignore", "pipe"],
  });
  return Number(r.stderr.toString().trim().split("\n").pop()) / 1024;
}

interface Scenario {
  title: string;
  bundle: string;
  /** For the iteration: a second bundle, the same image with one small file changed. */
  changed?: string;
}

function razorScenario(work: string): Scenario {
  mkbundle(
    [
      "-b",
      join(ROOT, "extensions.lst"),
      "-m",
      join(ROOT, "mirror.lst"),
      "-p",
      "--mirror",
      mirror(),
      "--work-dir",
      join(work, "wd"),
      "--out",
      join(work, "bundle"),
      "-q",
    ],
    work,
  );
  return {
    title: "razor: the fixture Core 4.4 with Razor's default lists, prod",
    bundle: join(work, "bundle", "razor-microkernel-bundle-prod.tar.gz"),
  };
}

function largeScenario(work: string): Scenario {
  const dir = join(work, "large");
  const payload = join(dir, "payload");
  const bytes = buildTree(payload, 200 * 1024 * 1024);
  const files = execFileSync("find", [".", "-type", "f"], { cwd: payload }).toString().trim().split("\n").sort();
  writeFileSync(join(payload, "zz-motd"), "version one\n");
  const manifest = [
    "name: large",
    "version: 1.0.0",
    "flavour: dev",
    "base:\n  iso: Core-4.4.iso",
    "files:",
    ...[...files, "./zz-motd"].map((f) => `  - path: /opt/payload/${f.slice(2)}\n    source: payload/${f.slice(2)}`),
  ].join("\n");
  writeFileSync(join(dir, "large.yaml"), manifest + "\n");
  const bundleOf = (out: string) => {
    mkbundle(
      // The payload is the host's /usr/lib as data, not programs for this x86 image.
      [
        "bundle",
        join(dir, "large.yaml"),
        "--no-lib-check",
        "--mirror",
        mirror(),
        "--work-dir",
        join(work, "wd"),
        "--out",
        out,
        "-q",
      ],
      work,
    );
    return join(out, "large-bundle-dev.tar.gz");
  };
  const bundle = bundleOf(join(work, "bundle-large"));
  writeFileSync(join(payload, "zz-motd"), "version two\n");
  const changed = bundleOf(join(work, "bundle-large-changed"));
  return {
    title: `large: the same base and ${(bytes / 1048576).toFixed(0)} MiB of /usr/lib files`,
    bundle,
    changed,
  };
}

/** Razor's recipe on a bundle's base ISO and overlay; also leaves the merged cpio for the limit line. */
function recipe(work: string, bundle: string): { script: string; limit: string } {
  const members = join(work, "members");
  rmSync(members, { recursive: true, force: true });
  mkdirSync(members);
  shell(`tar -xzf ${bundle} -C ${members}`);
  const overlay = join(
    members,
    readdirSync(members).find((f) => f.startsWith("overlay-"))!,
  );
  const baseIso = join(
    members,
    readdirSync(members).find((f) => f.endsWith(".iso"))!,
  );
  const unpack = `set -e
rm -rf w && mkdir -p w/initrd
osirrox -indev ${baseIso} -extract / w/iso 2>/dev/null && chmod -R u+w w/iso
(cd w/initrd && zcat ../iso/boot/core.gz | cpio -idm --quiet)
tar -xzf ${overlay} -C w/initrd
echo "mk_version: 0.9.0.1" > w/initrd/tmp/mk-version.yaml
rm -f w/iso/boot/isolinux/boot.cat
`;
  const iso = `xorriso -as mkisofs -quiet -l -J -R -V Core -no-emul-boot -boot-load-size 4 -boot-info-table -b boot/isolinux/isolinux.bin -c boot/isolinux/boot.cat -o shell.iso w/iso 2>/dev/null`;
  writeFileSync(
    join(work, "recipe.sh"),
    `${unpack}(cd w/initrd && find . | cpio -o -H newc --quiet | gzip -9 > ../iso/boot/core.gz)\n${iso}\n`,
  );
  // The limit: the same merged cpio (made once, outside the timing), pigz -9 on two cores, xorriso.
  writeFileSync(
    join(work, "limit-prepare.sh"),
    `${unpack}(cd w/initrd && find . | cpio -o -H newc --quiet > ../merged.cpio)\n`,
  );
  writeFileSync(join(work, "limit.sh"), `set -e\npigz -9 -p2 < w/merged.cpio > w/iso/boot/core.gz\n${iso}\n`);
  return { script: join(work, "recipe.sh"), limit: join(work, "limit.sh") };
}

const rebuildArgs = (bundle: string, out: string, extra: string[]) => [
  "rebuild-iso",
  "0.9.0.1",
  "--bundle",
  bundle,
  "--builtin",
  "load",
  "--format",
  "iso",
  "--out",
  out,
  "-q",
  ...extra,
];

const isoIn = (dir: string) =>
  join(
    dir,
    readdirSync(dir).find((f) => f.endsWith(".iso"))!,
  );

interface Row {
  name: string;
  ms: number;
  isoBytes?: number;
  rssMiB?: number;
}

async function measureScenario(s: Scenario, work: string, reps: number): Promise<Row[]> {
  const { script, limit } = recipe(work, s.bundle);
  const shellMs = await median(reps, () => shell(`sh ${script}`, work));
  const shellIso = statSync(join(work, "shell.iso")).size;
  shell(`sh ${join(work, "limit-prepare.sh")}`, work);
  const limitMs = await median(reps, () => shell(`sh ${limit}`, work));
  const rows: Row[] = [
    { name: "shell recipe (cpio -idm, gzip -9, xorriso)", ms: shellMs, isoBytes: shellIso },
    { name: "limit: pigz -9 -p2 + xorriso", ms: limitMs, isoBytes: statSync(join(work, "shell.iso")).size },
  ];
  const run = (extra: string[], out: string, wd: () => string) => () => {
    rmSync(join(work, out), { recursive: true, force: true });
    mkbundle([...rebuildArgs(s.bundle, join(work, out), extra), "--work-dir", wd()], work);
  };
  const fresh = () => {
    const d = join(work, "wd-fresh");
    rmSync(d, { recursive: true, force: true });
    return d;
  };
  const fullMs = await median(reps, run([], "full", fresh));
  rows.push({
    name: "mkbundle rebuild-iso (full)",
    ms: fullMs,
    isoBytes: statSync(isoIn(join(work, "full"))).size,
    rssMiB: peakMiB([...rebuildArgs(s.bundle, join(work, "full-rss"), []), "--work-dir", fresh()], work),
  });
  const appendMs = await median(reps, run(["--append-initrd"], "append", fresh));
  rows.push({
    name: "mkbundle --append-initrd (no layer cache)",
    ms: appendMs,
    isoBytes: statSync(isoIn(join(work, "append"))).size,
    rssMiB: peakMiB(
      [...rebuildArgs(s.bundle, join(work, "append-rss"), ["--append-initrd"]), "--work-dir", fresh()],
      work,
    ),
  });
  if (s.changed) {
    // Alternate the two bundles: each build has exactly one changed file against the last.
    const wd = join(work, "wd-iter");
    mkbundle([...rebuildArgs(s.bundle, join(work, "iter"), ["--append-initrd"]), "--work-dir", wd], work);
    let flip = false;
    const iterMs = await median(reps, () => {
      flip = !flip;
      mkbundle(
        [...rebuildArgs(flip ? s.changed! : s.bundle, join(work, "iter"), ["--append-initrd"]), "--work-dir", wd],
        work,
      );
    });
    rows.push({
      name: "iteration: one file changed, --append-initrd",
      ms: iterMs,
      isoBytes: statSync(isoIn(join(work, "iter"))).size,
      rssMiB: peakMiB([...rebuildArgs(s.bundle, join(work, "iter"), ["--append-initrd"]), "--work-dir", wd], work),
    });
  }
  return rows;
}

function print(title: string, rows: Row[], unpackedMiB: number, reps: number): void {
  const shellRow = rows[0]!;
  const limitRow = rows[1]!;
  console.log(`\n${title} (unpacked initrd ${unpackedMiB.toFixed(1)} MiB), median of ${reps}`);
  console.log(
    `  ${"".padEnd(46)} ${"time".padStart(8)}  ${"/shell".padStart(7)}  ${"/limit".padStart(7)}  ${"ISO/shell".padStart(9)}  ${"peak RSS".padStart(9)}`,
  );
  for (const r of rows) {
    console.log(
      `  ${r.name.padEnd(46)} ${`${(r.ms / 1000).toFixed(2)} s`.padStart(8)}  ${(r.ms / shellRow.ms).toFixed(2).padStart(6)}x  ${(r.ms / limitRow.ms).toFixed(2).padStart(6)}x  ${r.isoBytes ? (r.isoBytes / shellRow.isoBytes!).toFixed(3).padStart(8) + "x" : "".padStart(9)}  ${r.rssMiB ? `${r.rssMiB.toFixed(0)} MiB`.padStart(9) : ""}`,
    );
  }
}

async function unchangedBuild(work: string, reps: number): Promise<void> {
  const dir = join(work, "readme");
  mkdirSync(dir);
  cpSync(join(ROOT, "manifests", "hello-core4.yaml"), join(dir, "hello-core4.yaml"));
  const args = ["build", "hello-core4.yaml", "--mirror", mirror(), "-q"];
  mkbundle(args, dir);
  const ms = await median(reps, () => mkbundle(args, dir));
  const startup = await median(reps, () => mkbundle(["--version"], dir));
  console.log(
    `\nunchanged mkbundle build of manifests/hello-core4.yaml: ${(ms / 1000).toFixed(2)} s (target <= 0.3 s; mkbundle --version alone: ${(startup / 1000).toFixed(2)} s)`,
  );
}

export async function benchRemaster(): Promise<void> {
  const { reps, picked } = settings();
  const scenarios = { razor: razorScenario, large: largeScenario };
  for (const [name, make] of Object.entries(scenarios)) {
    if (!picked(name)) continue;
    const work = mkdtempSync(join(tmpdir(), "mkbundle-bench-remaster-"));
    try {
      const s = make(work);
      const rows = await measureScenario(s, work, reps);
      const unpacked =
        Number(
          execFileSync("du", ["-sb", join(work, "w/initrd")])
            .toString()
            .split(/\s/)[0],
        ) / 1048576;
      print(s.title, rows, unpacked, reps);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }
  if (!picked("build")) return;
  const work = mkdtempSync(join(tmpdir(), "mkbundle-bench-build-"));
  try {
    await unchangedBuild(work, reps);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
