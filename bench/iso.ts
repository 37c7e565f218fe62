// `npm run bench -- iso`: writing and reading a ~100 MB tree as ISO 9660 (Rock Ridge +
// Joliet), mkbundle against xorriso -as mkisofs and osirrox extraction, medians of 3.
import { mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openIso } from "../src/formats/iso9660/reader.js";
import { writeIso } from "../src/formats/iso9660/writer.js";
import { writeFileAtomic } from "../src/io/write-atomic.js";
import { readContent } from "../src/tree/entry.js";
import { median, printTable, shell } from "./measure.js";
import { buildTree, readTree } from "./tree.js";

const TARGET = 100 * 1024 * 1024;

export async function benchIso(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), "mkbundle-bench-iso-"));
  try {
    const tree = join(work, "tree");
    const bytes = buildTree(tree, TARGET);
    console.log(`tree: ${bytes} bytes of files from /usr/lib`);
    shell(`cat $(find . -type f) > /dev/null`, tree);
    const theirs = join(work, "xorriso.iso");
    const ours = join(work, "mkbundle.iso");
    const xWrite = await median(3, () => shell(`xorriso -as mkisofs -quiet -R -J -o ${theirs} ${tree} 2>/dev/null`));
    const oWrite = await median(3, () => writeFileAtomic(ours, writeIso(readTree(tree), { epoch: 1700000000 })));
    const size = statSync(ours).size;

    let n = 0;
    const xRead = await median(3, () =>
      shell(`rm -rf out-x && osirrox -indev ${theirs} -extract / out-x 2>/dev/null`, work),
    );
    const oRead = await median(3, async () => {
      const out = join(work, `out-m${n++}`);
      const img = await openIso(theirs);
      try {
        for (const e of img.entries) {
          const p = join(out, e.path);
          if (e.type === "dir") mkdirSync(p, { recursive: true });
          else if (e.type === "file") writeFileSync(p, readContent(e));
          else if (e.type === "symlink") symlinkSync(e.linkTarget!, p);
        }
      } finally {
        img.close();
      }
    });
    printTable(`ISO 9660 (Rock Ridge + Joliet), ${bytes} bytes of files`, [
      { name: "xorriso -as mkisofs -R -J", ms: xWrite, bytes: size },
      { name: "mkbundle writeIso", ms: oWrite, bytes: size, vs: { name: "xorriso", ms: xWrite } },
      { name: "osirrox -extract", ms: xRead, bytes: size },
      { name: "mkbundle readIso + extract", ms: oRead, bytes: size, vs: { name: "osirrox", ms: xRead } },
    ]);
    console.log(`  image sizes: mkbundle ${size}, xorriso ${statSync(theirs).size}`);
    console.log(
      `\nsummary: ISO write ${(xWrite / oWrite).toFixed(2)}x xorriso, ISO read+extract ${(xRead / oRead).toFixed(2)}x osirrox`,
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
