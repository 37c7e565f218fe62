// `npm run bench [-- NAME...]`: benchmarks that compare mkbundle with the shell tools in one run.
import { benchDev } from "./dev.js";
import { benchFormats } from "./formats.js";
import { benchIso } from "./iso.js";
import { benchRemaster } from "./remaster.js";
import { benchSize } from "./size.js";
import { benchSquashfs } from "./squashfs.js";

const BENCHES: Record<string, () => Promise<void>> = {
  formats: benchFormats,
  iso: benchIso,
  remaster: benchRemaster,
  dev: benchDev,
  squashfs: benchSquashfs,
  size: benchSize,
};

const names = process.argv.slice(2);
for (const n of names.length ? names : Object.keys(BENCHES)) {
  const run = BENCHES[n];
  if (!run) {
    console.error(`unknown benchmark '${n}'; known: ${Object.keys(BENCHES).join(", ")}`);
    process.exit(2);
  }
  console.log(`== ${n}`);
  await run();
}
