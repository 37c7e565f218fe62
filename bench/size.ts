// `npm run bench -- size`: mkbundle size of an ISO whose initrd unpacks to ~200 MiB (real
// files from /usr/lib, packed by GNU cpio and gzip, the ISO by xorriso), against `gzip -dc`
// of the same initrd: the time (median of 3) and mkbundle's peak RSS (GNU time). Goal: at
// most 1.5 times gzip's time, at most 150 MB.
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { median, shell } from "./measure.js";
import { buildTree } from "./tree.js";

const TARGET = 200 * 1024 * 1024;
const BIN = resolve(import.meta.dirname, "../src/cli/main.js");
/** Any kernel will do: the fixtures' (MKBUNDLE_FIXTURES, else ../shared/fixtures beside the repository). */
const FIXTURE_KERNEL = join(
  process.env["MKBUNDLE_FIXTURES"] ?? resolve(import.meta.dirname, "../../../shared/fixtures"),
  "tinycore/4.x/x86/release/distribution_files/vmlinuz",
);

export async function benchSize(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), "mkbundle-bench-size-"));
  try {
    const tree = join(work, "tree");
    const bytes = buildTree(tree, TARGET);
    const iso = join(work, "iso");
    mkdirSync(join(iso, "boot"), { recursive: true });
    shell(`find . | LC_ALL=C sort | cpio -o -H newc --quiet | gzip -6 > ${join(iso, "boot", "core.gz")}`, tree);
    cpSync(FIXTURE_KERNEL, join(iso, "boot", "vmlinuz"));
    const image = join(work, "big.iso");
    shell(`xorriso -as mkisofs -quiet -R -J -o ${image} ${iso} 2>/dev/null`);
    const initrd = join(iso, "boot", "core.gz");
    console.log(
      `initrd: ${bytes} bytes of files, ${statSync(initrd).size} bytes gzip'd; ISO ${statSync(image).size} bytes`,
    );
    const gunzip = await median(3, () => shell(`gzip -dc ${initrd} > /dev/null`));
    const rssFile = join(work, "rss");
    let rss = 0;
    const ours = await median(3, () => {
      execFileSync("/usr/bin/time", ["-f", "%M", "-o", rssFile, process.execPath, BIN, "size", image], {
        stdio: ["ignore", "ignore", "inherit"],
      });
      rss = Math.max(rss, Number(readFileSync(rssFile, "utf8").trim()) / 1024);
    });
    console.log(`\nmkbundle size of a ${(bytes / 1024 / 1024).toFixed(0)} MiB-initrd ISO`);
    console.log(`  gzip -dc of its initrd              ${gunzip.toFixed(0).padStart(7)} ms`);
    console.log(
      `  mkbundle size (whole ISO)           ${ours.toFixed(0).padStart(7)} ms  peak RSS ${rss.toFixed(0)} MiB`,
    );
    console.log(
      `\nsummary: mkbundle size takes ${(ours / gunzip).toFixed(2)}x the time of gzip -dc (goal <= 1.5x), peak RSS ${rss.toFixed(0)} MiB (goal <= 150 MB = 143 MiB)`,
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
