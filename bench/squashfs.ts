// `npm run bench -- squashfs`: the same tree (>= 100 MiB of real files from /usr/lib) packed by
// mkbundle tcz and by mksquashfs -b 4k -comp gzip -no-xattrs -processors 2 in one run: time,
// size and their ratios, and each one's peak RSS (GNU time).
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { shell } from "./measure.js";
import { buildTree } from "./tree.js";

const TARGET = 110 * 1024 * 1024;
const BIN = join(import.meta.dirname, "..", "src", "cli", "main.js");

/** Wall seconds and peak RSS (MiB) of a command, from GNU time. */
function timed(cmd: string[], cwd: string): { s: number; rssMiB: number } {
  const out = join(cwd, "time.txt");
  execFileSync("/usr/bin/time", ["-f", "%e %M", "-o", out, ...cmd], { cwd, stdio: ["ignore", "ignore", "inherit"] });
  const [s, kib] = readFileSync(out, "utf8").trim().split("\n").pop()!.split(" ").map(Number);
  return { s: s!, rssMiB: kib! / 1024 };
}

export async function benchSquashfs(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), "mkbundle-bench-sqfs-"));
  try {
    const tree = join(work, "tree");
    const bytes = buildTree(tree, TARGET);
    shell(`cat $(find . -type f) > /dev/null`, tree); // page cache
    const files = Number(execFileSync("sh", ["-c", "find . -type f | wc -l"], { cwd: tree }).toString());
    console.log(`tree: ${files} files, ${(bytes / 1024 / 1024).toFixed(0)} MiB from /usr/lib`);
    const theirs = join(work, "theirs.tcz");
    const runs = (n: number, f: () => { s: number; rssMiB: number }) =>
      Array.from({ length: n }, f).sort((a, b) => a.s - b.s)[Math.floor(n / 2)]!;
    const mk = runs(3, () => {
      rmSync(theirs, { force: true });
      return timed(
        [
          "mksquashfs",
          tree,
          theirs,
          "-b",
          "4k",
          "-comp",
          "gzip",
          "-no-xattrs",
          "-processors",
          "2",
          "-quiet",
          "-no-progress",
        ],
        work,
      );
    });
    const ours = runs(3, () =>
      timed([process.execPath, BIN, "tcz", tree, "--name", "ours", "--out", work, "-q"], work),
    );
    const [sizeTheirs, sizeOurs] = [statSync(theirs).size, statSync(join(work, "ours.tcz")).size];
    console.log(`\nsquashfs, gzip, 4 KiB blocks (median of 3)`);
    console.log(
      `  mksquashfs -processors 2   ${mk.s.toFixed(2).padStart(6)} s  ${sizeTheirs} bytes  ${mk.rssMiB.toFixed(0)} MiB peak RSS`,
    );
    console.log(
      `  mkbundle tcz               ${ours.s.toFixed(2).padStart(6)} s  ${sizeOurs} bytes  ${ours.rssMiB.toFixed(0)} MiB peak RSS`,
    );
    console.log(
      `  ratios: time ${(ours.s / mk.s).toFixed(2)}x mksquashfs's (goal <= 1.5), size ${(sizeOurs / sizeTheirs).toFixed(4)}x (goal <= 1.01), mkbundle's peak RSS ${ours.rssMiB.toFixed(0)} MiB (goal <= 150)`,
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
