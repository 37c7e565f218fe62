// Every user mistake is a one-line error with its exit status, never a stack trace: a table
// of bad arguments, bad environment values, missing paths and unusable files, each run
// through the real CLI.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { mkbundleAsync } from "../helpers/cli.js";
import { fixturesDir } from "../helpers/paths.js";
import { tempDir } from "../helpers/tmp.js";

const { dir, write } = tempDir("mkbundle-bad-input-");
const good = write("m/good.yaml", "name: good\nversion: 1.0.0\nbase:\n  iso: Core-4.4.iso\n");
const lists = { b: write("b.lst", "bash\n"), m: write("m.lst", "") };
const iso = () => join(fixturesDir(), "tinycore/4.x/x86/release/Core-4.4.iso");
const mirror = () => join(fixturesDir(), "tinycore");
const aFile = write("plain.txt", "not a container, not a directory\n");
const aDir = join(dir, "a-directory");
mkdirSync(aDir);
const wd = join(dir, "wd");
const bomb = write("bomb/bomb.yaml", "name: bomb\n");

interface Case {
  name: string;
  args: () => string[];
  env?: Record<string, string>;
  status: 1 | 2;
  says: RegExp;
}

const CASES: Case[] = [
  { name: "a misspelt command", args: () => ["biuld"], status: 2, says: /is not a command/ },
  { name: "an unknown option", args: () => ["validate", "--bogus", good], status: 2, says: /unknown option '--bogus'/ },
  { name: "a missing argument", args: () => ["validate"], status: 2, says: /missing required argument/ },
  {
    name: "a missing manifest",
    args: () => ["show", join(dir, "nope.yaml")],
    status: 2,
    says: /nope\.yaml: cannot read manifest: ENOENT/,
  },
  {
    name: "a directory as the manifest",
    args: () => ["validate", aDir],
    status: 2,
    says: /a-directory: cannot read manifest: EISDIR/,
  },
  {
    name: "SOURCE_DATE_EPOCH=yesterday",
    args: () => ["bundle", good, "--mirror", mirror(), "--work-dir", wd],
    env: { SOURCE_DATE_EPOCH: "yesterday" },
    status: 2,
    says: /SOURCE_DATE_EPOCH: SOURCE_DATE_EPOCH='yesterday' is not a time mkbundle can use/,
  },
  {
    name: "SOURCE_DATE_EPOCH past 2106",
    args: () => ["show", good],
    env: { SOURCE_DATE_EPOCH: "99999999999" },
    status: 2,
    says: /is not a time mkbundle can use \(whole seconds since 1970, 0 to 4294967295/,
  },
  {
    name: "SOURCE_DATE_EPOCH in milliseconds",
    args: () => ["show", good],
    env: { SOURCE_DATE_EPOCH: "1700000000000" },
    status: 2,
    says: /not a time mkbundle can use/,
  },
  {
    name: "--jobs 0",
    args: () => ["lock", good, "--jobs", "0"],
    status: 2,
    says: /--jobs must be a whole number of at least 1/,
  },
  {
    name: "--timeout abc",
    args: () => ["lock", good, "--timeout", "abc"],
    status: 2,
    says: /--timeout must be a whole number/,
  },
  {
    name: "--memory 10",
    args: () => ["test", iso(), "--expect", "x", "--memory", "10"],
    status: 2,
    says: /--memory must be a whole number of at least 64/,
  },
  { name: "test with nothing to wait for", args: () => ["test", iso()], status: 2, says: /nothing to wait for/ },
  {
    name: "MKBUNDLE_ACCEL=turbo",
    args: () => ["test", iso(), "--expect", "x"],
    env: { MKBUNDLE_ACCEL: "turbo" },
    status: 2,
    says: /MKBUNDLE_ACCEL 'turbo' is not an accelerator/,
  },
  {
    name: "--accel turbo",
    args: () => ["run", iso(), "--accel", "turbo"],
    status: 2,
    says: /--accel 'turbo' is not an accelerator/,
  },
  {
    name: "a port out of range",
    args: () => ["test", iso(), "--expect", "x", "--port", "99999:80"],
    status: 2,
    says: /is not HOST:GUEST/,
  },
  {
    name: "an HTTP check off the machine",
    args: () => ["test", iso(), "--http", "http://10.1.1.1/~x"],
    status: 2,
    says: /127\.0\.0\.1 only/,
  },
  {
    name: "a broken regex",
    args: () => ["test", iso(), "--expect", "("],
    status: 2,
    says: /--expect '\(' is not a regular expression/,
  },
  {
    name: "test on a file that is not an ISO",
    args: () => ["test", aFile, "--expect", "x"],
    status: 2,
    says: /plain\.txt: not an ISO 9660 image/,
  },
  {
    name: "ls of a missing file",
    args: () => ["ls", join(dir, "nothing.iso")],
    status: 2,
    says: /nothing\.iso: cannot read \(ENOENT\)/,
  },
  { name: "ls of a directory", args: () => ["ls", aDir], status: 2, says: /a-directory: cannot read \(EISDIR\)/ },
  {
    name: "cat of a file that is not a container",
    args: () => ["cat", aFile, "x"],
    status: 1,
    says: /plain\.txt: not a known container/,
  },
  {
    name: "cache gc of a missing path",
    args: () => ["cache", "gc", "/nonexistent", "--work-dir", wd],
    status: 2,
    says: /\/nonexistent: no such file or directory/,
  },
  {
    name: "rebuild-iso of a missing bundle",
    args: () => ["rebuild-iso", "1.0", "--bundle", join(dir, "nothing.tar.gz")],
    status: 2,
    says: /nothing\.tar\.gz: bundle not found/,
  },
  {
    name: "rebuild-iso of a file that is not a bundle",
    args: () => ["rebuild-iso", "1.0", "--bundle", aFile],
    status: 1,
    says: /plain\.txt: .*gzip: not gzip data/,
  },
  {
    name: "an unknown output format",
    args: () => ["build", good, "--format", "iso,floppy", "--mirror", mirror(), "--work-dir", wd],
    status: 2,
    says: /unknown output format floppy \(known: iso, pxe\)/,
  },
  {
    name: "a missing Razor list",
    args: () => ["-b", join(dir, "none.lst"), "-m", lists.m],
    status: 2,
    says: /none\.lst: extension list does not exist/,
  },
  {
    name: "MK_BUNDLE_TYPE=production",
    args: () => ["-b", lists.b, "-m", lists.m, "-n"],
    env: { MK_BUNDLE_TYPE: "production" },
    status: 2,
    says: /MK_BUNDLE_TYPE 'production' .* is not a bundle type/,
  },
  {
    name: "a -c file with a broken line",
    args: () => ["-b", lists.b, "-m", lists.m, "-c", write("bad.conf", "this is not KEY=VALUE\n"), "-n"],
    status: 2,
    says: /bad\.conf:1:1: 'this is not KEY=VALUE' is not a KEY=VALUE line/,
  },
  {
    name: "init where no directory can be made",
    args: () => ["init", join(aFile, "sub")],
    status: 1,
    says: /plain\.txt\/sub: cannot mkdir: .*\(ENOTDIR\)/,
  },
  {
    name: "a file as --work-dir",
    args: () => ["lock", good, "--mirror", mirror(), "--work-dir", aFile],
    status: 1,
    says: /plain\.txt\/cache.*\((ENOTDIR|EEXIST)\)/,
  },
  {
    name: "a file as --out",
    args: () => ["bundle", good, "--mirror", mirror(), "--work-dir", wd, "--out", aFile],
    status: 1,
    says: /plain\.txt.*\((ENOTDIR|EEXIST)\)/,
  },
  {
    name: "a manifest that is a YAML alias bomb",
    args: () => ["validate", write("bomb.yaml", "name: x\nfiles: &a [*b]\n")],
    status: 2,
    says: /bomb\.yaml:/,
  },
  {
    name: "a damaged lock (YAML alias bomb)",
    args: () => ["lock", bomb, "--mirror", mirror(), "--work-dir", wd],
    status: 2,
    says: /bomb\.lock:.*(alias|Excessive)/i,
  },
];

// The damaged lock: aliases that would expand to billions of nodes.
writeFileSync(
  join(dir, "bomb/bomb.lock"),
  `a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n`,
);

describe("bad input: one line, the right exit status, no stack trace", () => {
  it.each(CASES)("$name", async (c) => {
    const r = await mkbundleAsync(c.args(), { env: c.env ?? {} });
    expect(r.stderr, c.name).toMatch(c.says);
    expect(r.code, `${c.name}: ${r.stderr}`).toBe(c.status);
    expect(r.stderr, c.name).not.toMatch(/internal error|\n\s+at \S+ \(/);
  });
});
