// Every user mistake is a one-line error with its exit status, never a stack trace: a table
// of bad arguments, bad environment values, missing paths and unusable files, each run
// through the real CLI.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkbundleAsync } from "../helpers/cli.js";
import { tarOf } from "../helpers/hostile.js";
import { fixturesDir } from "../helpers/paths.js";
import { q, sh } from "../helpers/run.js";
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
const raw = (rel: string, bytes: Buffer) => {
  const p = join(dir, rel);
  writeFileSync(p, bytes);
  return p;
};
const manifestWith = (rel: string, body: string) =>
  write(rel, `name: m\nversion: 1.0.0\nbase:\n  iso: Core-4.4.iso\n${body}`);
/** A squashfs with one 5000-byte file in 4 KiB blocks, one byte of its first data block flipped. */
function corruptSquashfs(): string {
  const src = join(dir, "sq-src");
  mkdirSync(src, { recursive: true });
  writeFileSync(join(src, "big"), "x".repeat(5000));
  const out = join(dir, "corrupt.sqfs");
  sh(`mksquashfs ${q(src)} ${q(out)} -noappend -quiet -no-progress -all-root -no-xattrs -b 4096 -noF`);
  const b = readFileSync(out);
  b[100] = b[100]! ^ 0xff; // the first data block starts at 96
  writeFileSync(out, b);
  return out;
}

interface Case {
  name: string;
  args: () => string[];
  env?: Record<string, string>;
  status: 1 | 2;
  says: RegExp;
}

const CASES: Case[] = [
  { name: "a misspelt command", args: () => ["biuld"], status: 2, says: /is not a command/ },
  {
    name: "a mirror with a misspelt scheme",
    args: () => ["lock", good, "--mirror", "htp://127.0.0.1:18700"],
    status: 2,
    says: /--mirror 'htp:\/\/127\.0\.0\.1:18700' has the unsupported scheme 'htp:\/\/'/,
  },
  {
    name: "a mirror that is host:port without a scheme",
    args: () => ["lock", good, "--mirror", "127.0.0.1:18700"],
    status: 2,
    says: /--mirror '127\.0\.0\.1:18700' looks like host:port without a scheme \(did you mean http:\/\/127\.0\.0\.1:18700\?\)/,
  },
  {
    name: "a mirror URL that does not parse",
    args: () => ["lock", good, "--mirror", "http://127.0.0.1:99999"],
    status: 2,
    says: /--mirror 'http:\/\/127\.0\.0\.1:99999' is not a valid URL/,
  },
  {
    name: "a mirror directory that does not exist",
    args: () => ["build", good, "--mirror", join(dir, "no-such-mirror")],
    status: 2,
    says: /--mirror '.*no-such-mirror' is not a URL and no such directory exists/,
  },
  {
    name: "a manifest's mirror: that is a file",
    args: () => ["lock", manifestWith("m/file-mirror.yaml", `mirror: ${aFile}\n`)],
    status: 2,
    says: /the mirror: of .*file-mirror\.yaml '.*plain\.txt' is a file, not a mirror directory/,
  },
  {
    name: "MK_BUNDLE_TCL_MIRROR_URI with a bad scheme",
    args: () => ["lock", good],
    env: { MK_BUNDLE_TCL_MIRROR_URI: "ftp://mirror.example/tinycorelinux" },
    status: 2,
    says: /MK_BUNDLE_TCL_MIRROR_URI 'ftp:\/\/mirror\.example\/tinycorelinux' has the unsupported scheme 'ftp:\/\/'/,
  },
  { name: "an unknown option", args: () => ["validate", "--bogus", good], status: 2, says: /unknown option '--bogus'/ },
  { name: "a missing argument", args: () => ["validate"], status: 2, says: /missing required argument/ },
  {
    name: "a missing manifest",
    args: () => ["show", join(dir, "nope.yaml")],
    status: 2,
    says: /nope\.yaml: manifest does not exist/,
  },
  {
    name: "a directory as the manifest",
    args: () => ["validate", aDir],
    status: 2,
    says: /a-directory: manifest is a directory/,
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
    name: "--download-timeout abc",
    args: () => ["lock", good, "--download-timeout", "abc"],
    status: 2,
    says: /--download-timeout must be a whole number/,
  },
  {
    name: "--memory 10",
    args: () => ["test", iso(), "--expect", "x", "--memory", "10"],
    status: 2,
    says: /--memory must be a whole number of at least 64/,
  },
  { name: "test with nothing to wait for", args: () => ["test", iso()], status: 2, says: /nothing to wait for/ },
  {
    name: "a --data file that does not exist",
    args: () => ["test", iso(), "--expect", "x", "--data", "no-such-data.img"],
    status: 2,
    says: /--data no-such-data.img: no such file \(build it with persist: in the manifest\)/,
  },
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
    says: /unknown output format floppy \(known: iso, pxe, sbom, esp, data, disk\)/,
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
    name: "a manifest that is not UTF-8",
    args: () => ["validate", raw("latin1.yaml", Buffer.from("name: caf\xe9\n", "latin1"))],
    status: 2,
    says: /latin1\.yaml:1:10: byte 9 is not valid UTF-8 \(0xe9\)/,
  },
  {
    name: "a manifest with a NUL byte",
    args: () => ["validate", raw("nul.yaml", Buffer.from("name: a\0b\n"))],
    status: 2,
    says: /nul\.yaml:1:8: byte 7 is a NUL/,
  },
  {
    name: "a 3 MiB manifest",
    args: () => ["validate", raw("huge.yaml", Buffer.alloc(3 * 1024 * 1024, "# padding\n"))],
    status: 2,
    says: /huge\.yaml: manifest is 3145728 bytes; the limit is 2097152/,
  },
  {
    name: "a NUL in a path (YAML escape)",
    args: () => ["validate", manifestWith("nulpath.yaml", 'files:\n  - path: "/etc/a\\0b"\n    content: x\n')],
    status: 2,
    says: /nulpath\.yaml:6:\d+: files\[0\]\.path: '\/etc\/a\\x00b' contains a NUL byte/,
  },
  {
    name: "one path written twice, once with '//'",
    args: () => [
      "validate",
      manifestWith(
        "slashes.yaml",
        "files:\n  - path: /etc/motd\n    content: a\n  - path: /etc//motd\n    content: b\n",
      ),
    ],
    status: 2,
    says: /slashes\.yaml:8:\d+: files\[1\]\.path: '\/etc\/\/motd' is not a normal path \(write \/etc\/motd\)[^]*'\/etc\/\/motd' is already written by files\[0\]/,
  },
  {
    name: "an owner no tar header can hold",
    args: () => [
      "validate",
      manifestWith("owner.yaml", 'files:\n  - path: /x\n    content: a\n    owner: "300000:300000"\n'),
    ],
    status: 2,
    says: /owner\.yaml:8:\d+: files\[0\]\.owner: '300000:300000': uid and gid must be at most 262143/,
  },
  {
    name: "a manifest with 300 problems",
    args: () => [
      "validate",
      manifestWith(
        "many.yaml",
        "files:\n" +
          Array.from({ length: 300 }, (_, i) => `  - path: /f${i}\n    mode: "99"\n    content: x\n`).join(""),
      ),
    ],
    status: 2,
    says: /many\.yaml: 200 more problems not shown/,
  },
  {
    name: "ls of a tar whose pax mtime is 1e20",
    args: () => ["ls", raw("pax.tar", tarOf([{ name: "a", data: Buffer.from("hi\n"), pax: { mtime: "1e20" } }]))],
    status: 1,
    says: /pax\.tar \(tar\): pax mtime '1e20' is not a number/,
  },
  {
    name: "ls of a tar whose pax uid is 99999999999",
    args: () => [
      "ls",
      raw("paxuid.tar", tarOf([{ name: "a", data: Buffer.from("hi\n"), pax: { uid: "99999999999" } }])),
    ],
    status: 1,
    says: /pax uid 99999999999 is out of range/,
  },
  {
    name: "cat of a dangling hard link",
    args: () => ["cat", raw("dangling.tar", tarOf([{ name: "link", hardLinkTo: "missing" }])), "link"],
    status: 1,
    says: /'link' is a hard link to 'missing', which is not a file in the container/,
  },
  {
    name: "cat of a hard link to itself",
    args: () => ["cat", raw("self.tar", tarOf([{ name: "self", hardLinkTo: "self" }])), "self"],
    status: 1,
    says: /'self' is a hard link to 'self', which is not a file in the container/,
  },
  {
    name: "cat of a squashfs file with a corrupt data block",
    args: () => ["cat", corruptSquashfs(), "big"],
    status: 1,
    says: /corrupt\.sqfs: 'big' block 0: corrupt compressed data/,
  },
  {
    name: "MKBUNDLE_MAX_BYTES=lots",
    args: () => ["ls", iso()],
    env: { MKBUNDLE_MAX_BYTES: "lots" },
    status: 2,
    says: /MKBUNDLE_MAX_BYTES 'lots' is not a size/,
  },
  {
    name: "an initrd with more entries than MKBUNDLE_MAX_ENTRIES",
    args: () => ["ls", iso(), "boot/core.gz"],
    env: { MKBUNDLE_MAX_ENTRIES: "100" },
    status: 1,
    says: /boot\/core\.gz \(gzip\+cpio\): more than 100 entries \(the limit for one container\)/,
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

// A full disk and a read-only file system, for real: two 2 MiB tmpfs mounts (the tests run
// as root, as CI does). Each failure names the path, and nothing half-written is left.
describe("a full disk and read-only directories: one line naming the path, nothing left behind", () => {
  const full = join(dir, "full");
  const ro = join(dir, "ro");
  beforeAll(() => {
    for (const m of [full, ro]) {
      mkdirSync(m);
      sh(`mount -t tmpfs -o size=2m tmpfs ${q(m)}`);
    }
    writeFileSync(join(ro, "in-ro.yaml"), "name: in-ro\nversion: 1.0.0\nbase:\n  iso: Core-4.4.iso\n");
    sh(`mount -o remount,ro ${q(ro)}`);
  });
  afterAll(() => {
    for (const m of [full, ro]) sh(`umount ${q(m)}`);
  });
  const leftovers = (d: string) => sh(`find ${q(d)} -name '*.tmp' -o -path '*/cache/tmp/*' -type f`).toString();

  it.each([
    {
      name: "--out on a full disk",
      args: () => ["bundle", good, "--mirror", mirror(), "--work-dir", wd, "--out", join(full, "out")],
      says: /full\/out\/good-bundle-dev\.tar\.gz: cannot write: no space left on device \(ENOSPC\)/,
    },
    {
      name: "--work-dir on a full disk",
      args: () => ["lock", good, "--mirror", mirror(), "--work-dir", join(full, "wd")],
      says: /full\/wd\/cache\/tmp\/\S+: cannot write the downloaded bytes here: no space left on device \(ENOSPC\)/,
    },
    {
      name: "--out on a read-only file system",
      args: () => ["bundle", good, "--mirror", mirror(), "--work-dir", wd, "--out", join(ro, "out")],
      says: /ro\/out: cannot mkdir: read-only file system \(EROFS\)/,
    },
    {
      name: "--work-dir on a read-only file system",
      args: () => ["lock", good, "--mirror", mirror(), "--work-dir", join(ro, "wd")],
      says: /ro\/wd: cannot mkdir: read-only file system \(EROFS\)/,
    },
    {
      name: "a lock beside a manifest on a read-only file system",
      args: () => ["lock", join(ro, "in-ro.yaml"), "--mirror", mirror(), "--work-dir", wd],
      says: /ro\/\.in-ro\.lock\.\w+\.tmp: cannot open: read-only file system \(EROFS\)/,
    },
  ])("$name", async (c) => {
    const r = await mkbundleAsync(c.args());
    expect(r.stderr, c.name).toMatch(c.says);
    expect(r.code, `${c.name}: ${r.stderr}`).toBe(1);
    expect(r.stderr, c.name).not.toMatch(/internal error|\n\s+at \S+ \(/);
    expect(leftovers(full), c.name).toBe("");
  });
});
