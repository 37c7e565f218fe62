// Every `sh` block of the README runs as written, in order, against the fixtures: from a
// copy of the repository's examples laid out as the README assumes (manifests/ here,
// ../shared/fixtures beside), so its commands, paths and outputs cannot drift. `npm`
// lines (npm ci, npm test) are what CI itself runs; everything else must be mkbundle.
import { cpSync, mkdirSync, readFileSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { mkbundleAsync } from "../helpers/cli.js";
import { fixturesDir, repoRoot } from "../helpers/paths.js";
import { tempDir } from "../helpers/tmp.js";

const { dir } = tempDir("mkbundle-readme-");
const main = join(dir, "main");

/** The command lines of the README's sh blocks, in order, `a && b` split in two. */
function readmeCommands(): string[] {
  const text = readFileSync(join(repoRoot, "README.md"), "utf8");
  const blocks = [...text.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
  return blocks
    .flatMap((b) => b.split("\n"))
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"))
    .flatMap((l) => l.split(" && "));
}

/** Words as sh splits them: blanks separate, '…' and "…" quote. */
function shellWords(line: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === "'" || c === '"') {
      const end = line.indexOf(c, i + 1);
      if (end < 0) throw new Error(`unterminated quote in: ${line}`);
      word = (word ?? "") + line.slice(i + 1, end);
      i = end;
    } else if (/\s/.test(c)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else word = (word ?? "") + c;
  }
  if (word !== undefined) words.push(word);
  return words;
}

beforeAll(() => {
  mkdirSync(join(dir, "shared"), { recursive: true });
  symlinkSync(fixturesDir(), join(dir, "shared", "fixtures"));
  mkdirSync(main);
  for (const f of ["manifests", "extensions.lst", "mirror.lst"])
    cpSync(join(repoRoot, f), join(main, f), { recursive: true });
});

describe("the README's commands", () => {
  it("every sh block runs as written, exit 0", async () => {
    const commands = readmeCommands();
    expect(commands.length).toBeGreaterThanOrEqual(6);
    const ran: string[] = [];
    for (const line of commands) {
      const words = shellWords(line);
      if (words[0] === "npm") continue; // npm ci and npm test: what .ci/run runs
      const args = words[0] === "npx" ? words.slice(1) : words;
      expect(args[0], `README runs something other than mkbundle: ${line}`).toBe("mkbundle");
      const r = await mkbundleAsync(args.slice(1), {
        cwd: main,
        // A README command without --mirror uses the public mirror; here the fixtures stand in.
        env: { MK_BUNDLE_TCL_MIRROR_URI: join(dir, "shared", "fixtures", "tinycore") },
      });
      expect(r.code, `${line}\n${r.stderr.slice(-3000)}`).toBe(0);
      expect(r.stdout.length, `${line} printed nothing`).toBeGreaterThan(0);
      ran.push(args[1]!);
    }
    // The main job, a look inside, and the boot test are all there.
    expect(ran).toEqual(expect.arrayContaining(["build", "ls", "cat", "test"]));
  }, 300_000);
});
