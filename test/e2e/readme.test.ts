// Every `sh` block of the README runs as written, in order, against the fixtures: from a
// copy of the repository's examples laid out as the README assumes (manifests/ here,
// ../shared/fixtures beside), so its commands, paths and outputs cannot drift. `npm`
// lines (npm ci, npm test) are what CI itself runs; everything else must be mkbundle.
// Then every example in every command's --help runs the same way, except those that
// never end by design (run, dev), need a base with a network driver (--http) or a registry on
// the network (push, pull, verify).
import { cpSync, mkdirSync, readdirSync, readFileSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { mkbundle, mkbundleAsync } from "../helpers/cli.js";
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

const env = () => ({ MK_BUNDLE_TCL_MIRROR_URI: join(dir, "shared", "fixtures", "tinycore") });

/** Runs one command line as the shell would (a glob in it expanded in `main`); exit 0 or the test fails. */
async function runLine(line: string): Promise<string | undefined> {
  const words = shellWords(line.replace(/\s+#.*$/, ""));
  if (words[0] === "npm") return undefined; // npm ci and npm test: what .ci/run runs
  const args = (words[0] === "npx" ? words.slice(1) : words).flatMap((w) => (w.includes("*") ? globIn(main, w) : [w]));
  expect(args[0], `not an mkbundle command: ${line}`).toBe("mkbundle");
  // A command without --mirror uses the public mirror; here the fixtures stand in.
  const r = await mkbundleAsync(args.slice(1), { cwd: main, env: env() });
  expect(r.code, `${line}\n${r.stderr.slice(-3000)}`).toBe(0);
  expect(r.stdout.length + r.stderr.length, `${line} printed nothing`).toBeGreaterThan(0);
  return args[1];
}

/** dir/*.yaml -> the matching names, sorted, as sh expands it. */
function globIn(cwd: string, pattern: string): string[] {
  const slash = pattern.lastIndexOf("/");
  const [folder, name] = [pattern.slice(0, slash), pattern.slice(slash + 1)];
  const re = new RegExp(`^${name.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")}$`);
  return readdirSync(join(cwd, folder))
    .filter((n) => re.test(n))
    .sort()
    .map((n) => `${folder}/${n}`);
}

/** The example lines of `mkbundle --help` and of every command's --help. */
function helpExamples(): { command: string; line: string }[] {
  /** The names listed under "Commands:" in a help text. */
  const commandsIn = (help: string) =>
    [...(help.split("\nCommands:\n")[1]?.split("\n\n")[0] ?? "").matchAll(/^ {2}([a-z][a-z-]*)/gm)]
      .map((m) => m[1]!)
      .filter((c) => c !== "help");
  const commands = commandsIn(mkbundle(["--help"]).stdout);
  const nested = (c: string) => commandsIn(mkbundle([c, "--help"]).stdout).map((x) => `${c} ${x}`);
  const all = ["", ...commands.flatMap((c) => (c === "cache" ? nested(c) : [c]))];
  return all.flatMap((command) =>
    mkbundle([...command.split(" ").filter(Boolean), "--help"])
      .stdout.split("\n")
      .filter((l) => /^\s+mkbundle /.test(l))
      .flatMap((l) => l.trim().split(" && "))
      .map((line) => ({ command: command || "mkbundle", line })),
  );
}

/** Help examples that cannot run to an end here, and why. */
const NOT_RUN: [RegExp, string][] = [
  [/^mkbundle run /, "boots QEMU on this terminal until the guest powers off"],
  [/^mkbundle dev /, "a watch loop that runs until interrupted"],
  [/--http /, "needs a base with a network driver (test/e2e/pure64-boot.test.ts does this on x86_64)"],
  [/^mkbundle (logs|stop|exec) /, "needs a background guest (test/e2e/background.test.ts starts two and uses these)"],
  [
    /^mkbundle (push|pull|verify) /,
    "names a registry on the network (test/e2e/registry.test.ts and signed-registry.test.ts run them on 127.0.0.1)",
  ],
];

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
      const command = await runLine(line);
      if (command) ran.push(command);
    }
    // The main job, a look inside, and the boot test are all there.
    expect(ran).toEqual(expect.arrayContaining(["build", "ls", "cat", "test"]));
    // The first block: an x86_64 service image built, and its page fetched from the host.
    expect(commands.slice(0, 4)).toEqual([
      "npm ci",
      "npx mkbundle build manifests/hello-service.yaml --mirror ../shared/fixtures/tinycore",
      "npx mkbundle test build-files/hello-service-prod-1.0.0.iso --port 18080:80 --http 'http://127.0.0.1:18080/~Hello'",
      "npm test",
    ]);
    expect(readFileSync(join(main, "manifests/hello-service.yaml"), "utf8")).toMatch(/^ {2}arch: x86_64$/m);
  }, 900_000);

  it("every --help example runs (after the README's, whose outputs they read)", async () => {
    const examples = helpExamples();
    expect(examples.length).toBeGreaterThanOrEqual(12);
    const skipped = examples.filter((e) => NOT_RUN.some(([re]) => re.test(e.line)));
    expect(skipped.length).toBeLessThanOrEqual(10);
    for (const e of examples.filter((x) => !skipped.includes(x))) await runLine(e.line);
  }, 300_000);
});
