// `npm run bench -- remaster`: one bundle remastered by mkbundle (full and --append-initrd)
// and by Razor's shell recipe (unpack the ISO, zcat | cpio -idm, the overlay tar on top,
// find | cpio -o | gzip -9, xorriso -as mkisofs -boot-info-table), medians of 5; output
// sizes and mkbundle's peak memory against the unpacked initrd.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { median, shell } from "./measure.js";
import { buildTree } from "./tree.js";

const BIN = resolve(fileURLToPath(import.meta.url), "../../src/cli/main.js");
const REPS = 5;

function fixtures(): string {
  const dir =
    process.env["MKBUNDLE_FIXTURES"] ?? resolve(fileURLToPath(import.meta.url), "../../../../shared/fixtures");
  if (!existsSync(dir)) throw new Error(`fixtures not found at ${dir}; set MKBUNDLE_FIXTURES`);
  return dir;
}

const mkbundle = (args: string[], cwd: string) =>
  execFileSync(process.execPath, [BIN, ...args], { cwd, stdio: ["ignore", "pipe", "pipe"] });

/** Peak resident memory (KiB) of one mkbundle run, from GNU time. */
function peakKib(args: string[], cwd: string): number | undefined {
  if (!existsSync("/usr/bin/time")) return undefined;
  const r = spawnSync("/usr/bin/time", ["-f", "%M", process.execPath, BIN, ...args], {
    cwd,
    stdio: ["ignore", "ignore", "pipe"],
  });
  return Number(r.stderr.toString().trim().split("\n").pop());
}

/** A bundle as Razor would make it: the fixture base, Razor's default lists, prod. */
function razorBundle(work: string): { bundle: string; title: string } {
  const root = resolve(fileURLToPath(import.meta.url), "../../..");
  mkbundle(
    [
      "-b",
      join(root, "extensions.lst"),
      "-m",
      join(root, "mirror.lst"),
      "-p",
      "--mirror",
      join(fixtures(), "tinycore"),
      "--work-dir",
      join(work, "wd"),
      "--out",
      join(work, "bundle"),
      "-q",
    ],
    work,
  );
  return {
    bundle: join(work, "bundle", "razor-microkernel-bundle-prod.tar.gz"),
    title: "razor-microkernel-bundle-prod (fixture Core 4.4 + Razor's default lists)",
  };
}

/** A larger image: the same base, every fixture extension builtin, ~40 MB of /usr/lib files. */
function largeBundle(work: string): { bundle: string; title: string } {
  const dir = join(work, "large");
  const payload = join(dir, "payload");
  const bytes = buildTree(payload, 40 * 1024 * 1024);
  const files = execFileSync("find", [".", "-type", "f"], { cwd: payload }).toString().trim().split("\n").sort();
  const exts = readdirSync(join(fixtures(), "tinycore/4.x/x86/tcz"))
    .filter((f) => f.endsWith(".tcz"))
    .map((f) => f.slice(0, -4));
  const manifest = [
    "name: razor-microkernel",
    "flavour: prod",
    "base:\n  iso: Core-4.4.iso",
    `extensions:\n  builtin: [${exts.join(", ")}]`,
    "files:",
    ...files.map((f) => `  - path: /opt/payload/${f.slice(2)}\n    source: payload/${f.slice(2)}`),
  ].join("\n");
  writeFileSync(join(dir, "large.yaml"), manifest + "\n");
  mkbundle(
    [
      "bundle",
      join(dir, "large.yaml"),
      "--mirror",
      join(fixtures(), "tinycore"),
      "--work-dir",
      join(work, "wd"),
      "--out",
      join(work, "bundle-large"),
      "-q",
    ],
    work,
  );
  return {
    bundle: join(work, "bundle-large", "razor-microkernel-bundle-prod.tar.gz"),
    title: `a larger image (every fixture extension builtin, ${(bytes / 1048576).toFixed(0)} MiB of /usr/lib files)`,
  };
}

export async function benchRemaster(): Promise<void> {
  for (const make of [razorBundle, largeBundle]) await scenario(make);
}

async function scenario(make: (work: string) => { bundle: string; title: string }): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), "mkbundle-bench-remaster-"));
  try {
    const { bundle, title } = make(work);
    // What the shell recipe starts from: the bundle's base ISO and overlay tarball.
    const members = join(work, "members");
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
    const recipe = join(work, "recipe.sh");
    writeFileSync(
      recipe,
      `set -e
rm -rf w && mkdir -p w/initrd
osirrox -indev ${baseIso} -extract / w/iso 2>/dev/null && chmod -R u+w w/iso
(cd w/initrd && zcat ../iso/boot/core.gz | cpio -idm --quiet)
tar -xzf ${overlay} -C w/initrd
echo "mk_version: 0.9.0.1" > w/initrd/tmp/mk-version.yaml
(cd w/initrd && find . | cpio -o -H newc --quiet | gzip -9 > ../iso/boot/core.gz)
rm -f w/iso/boot/isolinux/boot.cat
xorriso -as mkisofs -quiet -l -J -R -V Core -no-emul-boot -boot-load-size 4 -boot-info-table -b boot/isolinux/isolinux.bin -c boot/isolinux/boot.cat -o shell.iso w/iso 2>/dev/null
`,
    );
    const shellMs = await median(REPS, () => shell(`sh ${recipe}`, work));
    const unpacked = Number(
      execFileSync("du", ["-sb", join(work, "w/initrd")])
        .toString()
        .split(/\s/)[0],
    );
    const run = (extra: string[], out: string) => () => {
      rmSync(join(work, out), { recursive: true, force: true });
      mkbundle(
        ["rebuild-iso", "0.9.0.1", "--bundle", bundle, "--builtin", "load", "--out", join(work, out), "-q", ...extra],
        work,
      );
    };
    const fullMs = await median(REPS, run([], "full"));
    const appendMs = await median(REPS, run(["--append-initrd"], "append"));
    const size = (d: string) => statSync(join(work, d, "rz_mk_prod-image.0.9.0.1.iso")).size;
    const shellSize = statSync(join(work, "shell.iso")).size;
    rmSync(join(work, "full"), { recursive: true, force: true });
    const peakFull = peakKib(
      ["rebuild-iso", "0.9.0.1", "--bundle", bundle, "--builtin", "load", "--out", join(work, "full"), "-q"],
      work,
    );
    const peakAppend = peakKib(
      [
        "rebuild-iso",
        "0.9.0.1",
        "--bundle",
        bundle,
        "--builtin",
        "load",
        "--append-initrd",
        "--out",
        join(work, "append2"),
        "-q",
      ],
      work,
    );

    console.log(`\nremaster of ${title}, median of ${REPS}`);
    console.log(
      `  shell recipe (cpio -idm, tar, cpio -o | gzip -9, xorriso)   ${shellMs.toFixed(0).padStart(6)} ms   ISO ${shellSize} bytes`,
    );
    console.log(
      `  mkbundle rebuild-iso (full)                                ${fullMs.toFixed(0).padStart(6)} ms   ISO ${size("full")} bytes   ${(fullMs / shellMs).toFixed(2)}x the shell's time (target <= 0.40)`,
    );
    console.log(
      `  mkbundle rebuild-iso --append-initrd                       ${appendMs.toFixed(0).padStart(6)} ms   ISO ${size("append")} bytes   ${(appendMs / shellMs).toFixed(2)}x the shell's time (target <= 0.15)`,
    );
    console.log(
      `  ISO size vs the shell's: full ${(size("full") / shellSize).toFixed(3)}x, append ${(size("append") / shellSize).toFixed(3)}x (target <= 1)`,
    );
    if (peakFull !== undefined && peakAppend !== undefined) {
      console.log(
        `  peak memory: full ${(peakFull / 1024).toFixed(0)} MiB, append ${(peakAppend / 1024).toFixed(0)} MiB; unpacked initrd ${(unpacked / 1024 / 1024).toFixed(1)} MiB -> ${((peakFull * 1024) / unpacked).toFixed(1)}x (target < 2x; node itself takes ~45 MiB)`,
      );
    }
    console.log(
      `summary: full ${(fullMs / shellMs).toFixed(2)}x, append ${(appendMs / shellMs).toFixed(2)}x the shell pipeline's time`,
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
