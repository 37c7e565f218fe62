// npm pack: the published package.json carries no `prepare` script. `prepare` builds a
// checkout after `npm ci` (which needs the dev dependencies); in an installed tarball the
// built files are already there, and npm would only warn about a script it cannot run.
// `prepack` strips it (keeping the original beside it), `postpack` puts the original back.
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";

const [mode] = process.argv.slice(2);
const saved = "package.json.orig";
if (mode === "strip") {
  const text = readFileSync("package.json", "utf8");
  writeFileSync(saved, text);
  const pkg = JSON.parse(text);
  delete pkg.scripts.prepare;
  writeFileSync("package.json", JSON.stringify(pkg, null, 2) + "\n");
} else if (mode === "restore") {
  if (existsSync(saved)) renameSync(saved, "package.json");
} else {
  console.error("usage: node scripts/package-json.mjs strip|restore");
  process.exit(2);
}
