// `npm run bench -- formats`: our cpio and gzip (level 9, and the default level) against GNU
// cpio, gzip -9 and pigz -9 on a ~50 MB tree of real files (copied from /usr/lib), in one run,
// medians of 3.
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readCpio } from "../src/formats/cpio/reader.js";
import { writeCpio } from "../src/formats/cpio/writer.js";
import { gzip } from "../src/formats/gzip/writer.js";
import { writeFileAtomic } from "../src/io/write-atomic.js";
import { median, printTable, shell } from "./measure.js";
import { buildTree, readTree } from "./tree.js";

const TARGET = 50 * 1024 * 1024;

export async function benchFormats(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), "mkbundle-bench-"));
  try {
    const tree = join(work, "tree");
    const bytes = buildTree(tree, TARGET);
    console.log(`tree: ${bytes} bytes of files from /usr/lib in ${tree}`);
    const ours = join(work, "ours.cpio");
    const gnu = join(work, "gnu.cpio");
    shell(`cat $(find . -type f) > /dev/null`, tree); // page cache

    const gnuWrite = await median(3, () => shell(`find . | LC_ALL=C sort | cpio -o -H newc --quiet > ${gnu}`, tree));
    const ourWrite = await median(3, () => writeFileAtomic(ours, writeCpio(readTree(tree))));
    const size = statSync(ours).size;
    const gnuRead = await median(3, () => shell(`cpio -it --quiet < ${gnu} > /dev/null`));
    const ourRead = await median(3, async () => {
      let n = 0;
      for await (const e of readCpio(readFileSync(gnu))) n += e.size;
      return n;
    });
    printTable("cpio newc (tree from page cache -> archive file; archive -> entries)", [
      { name: "GNU cpio -o -H newc", ms: gnuWrite, bytes: size },
      { name: "mkbundle writeCpio", ms: ourWrite, bytes: size, vs: { name: "GNU cpio", ms: gnuWrite } },
      { name: "GNU cpio -it", ms: gnuRead, bytes: size },
      { name: "mkbundle readCpio", ms: ourRead, bytes: size, vs: { name: "GNU cpio", ms: gnuRead } },
    ]);

    const input = readFileSync(ours);
    const gz1 = await median(3, () => gzip(input, { level: 9, threads: 1 }));
    const gz2 = await median(3, () => gzip(input, { level: 9, threads: 2 }));
    const gzip9 = await median(3, () => shell(`gzip -9c ${ours} > ${ours}.gz`));
    const pigz9 = await median(3, () => shell(`pigz -9c -p 2 ${ours} > ${ours}.pigz.gz`));
    const gzDefault = await median(3, () => gzip(input, { threads: 2 }));
    const [a, b] = [await gzip(input, { level: 9, threads: 1 }), await gzip(input, { level: 9, threads: 2 })];
    const atDefault = await gzip(input, { threads: 2 });
    printTable(`gzip -9 of the ${size}-byte archive`, [
      { name: "gzip -9", ms: gzip9, bytes: size },
      { name: "pigz -9 -p 2", ms: pigz9, bytes: size, vs: { name: "gzip -9", ms: gzip9 } },
      { name: "mkbundle gzip, 1 thread", ms: gz1, bytes: size, vs: { name: "gzip -9", ms: gzip9 } },
      { name: "mkbundle gzip, 2 threads", ms: gz2, bytes: size, vs: { name: "mkbundle 1 thread", ms: gz1 } },
      { name: "mkbundle default level, 2 threads", ms: gzDefault, bytes: size, vs: { name: "level 9", ms: gz2 } },
    ]);
    console.log(
      `  output: ours ${b.length} bytes (identical for 1 and 2 threads: ${a.equals(b)}), at the default level ${atDefault.length} (${((atDefault.length / b.length - 1) * 100).toFixed(2)}% more), gzip -9 ${statSync(`${ours}.gz`).size}, pigz -9 ${statSync(`${ours}.pigz.gz`).size}`,
    );
    console.log(
      `\nsummary: cpio write ${(gnuWrite / ourWrite).toFixed(2)}x GNU, cpio read ${(gnuRead / ourRead).toFixed(2)}x GNU, parallel gzip ${(gz1 / gz2).toFixed(2)}x single-thread`,
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
