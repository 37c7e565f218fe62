// `mkbundle ls` and `mkbundle cat` through the built binary, on GNU-made archives and the fixtures.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { ListedEntry as Listed } from "../../src/inspect/format-listing.js";
import { mkbundleIn } from "../helpers/cli.js";
import { fixturesDir } from "../helpers/paths.js";
import { q, sh } from "../helpers/run.js";
import { tempDir } from "../helpers/tmp.js";
import { makeEveryTypeTree, pseudoRandom, summarizeDisk, UTF8_NAME } from "../helpers/tree.js";

const { dir, write } = tempDir("mkbundle-inspect-");
const tree = join(dir, "tree");
const pair = join(dir, "pair.cpio.gz");

beforeAll(() => {
  makeEveryTypeTree(tree, { socket: true });
  writeFileSync(join(tree, "five-mb.bin"), pseudoRandom(5 * 1024 * 1024, 9));
  sh(`mkdir -p ${q(join(dir, "mods/lib/modules"))} && echo mod > ${q(join(dir, "mods/lib/modules/x.ko"))}`);
  sh(`cd ${q(tree)} && find . | LC_ALL=C sort | cpio -o -H newc --quiet > ../a.cpio`);
  sh(`cd ${q(join(dir, "mods"))} && find . | LC_ALL=C sort | cpio -o -H newc --quiet > ../b.cpio`);
  sh(`cd ${q(dir)} && cat a.cpio b.cpio | gzip -9 > pair.cpio.gz`);
});

describe("mkbundle ls", () => {
  it("--json shows every entry of both archives with devices, owners and modes intact", async () => {
    const r = await mkbundleIn(["ls", "--json", pair]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const listed = JSON.parse(r.stdout) as Listed[];
    const disk = summarizeDisk(tree);
    expect(listed.length).toBe(disk.length + 1 + 4); // + tree root; + mods root, lib, lib/modules, x.ko
    expect(listed.find((e) => e.path === "loop0")).toMatchObject({ type: "block", major: 7, minor: 0, mode: 0o660 });
    expect(listed.find((e) => e.path === "owned")).toMatchObject({ type: "file", uid: 1000, gid: 50, size: 5 });
    expect(listed.find((e) => e.path === "setuid-tool")).toMatchObject({ mode: 0o4755 });
    expect(listed.find((e) => e.path === "tmp")).toMatchObject({ type: "dir", mode: 0o1777 });
    expect(listed.find((e) => e.path === "link-rel")).toMatchObject({ type: "symlink", target: "one" });
    expect(listed.find((e) => e.path === "sock")).toMatchObject({ type: "socket" });
    expect(listed.find((e) => e.path === "fifo")).toMatchObject({ type: "fifo" });
    expect(listed.find((e) => e.path === "lib/modules/x.ko")).toMatchObject({ type: "file", size: 4 });
    for (const l of listed)
      expect(Object.keys(l).sort()).toEqual(
        expect.arrayContaining(["gid", "mode", "mtime", "path", "size", "type", "uid"]),
      );
  });

  it("prints ls -l-like lines", async () => {
    const r = await mkbundleIn(["ls", pair]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^brw-rw----\s+0\s+0\s+7,0 2020-09-\d\d \d\d:\d\d loop0$/m);
    expect(r.stdout).toMatch(/^-rwsr-xr-x\s+0\s+0\s+10 .* setuid-tool$/m);
    expect(r.stdout).toMatch(/^lrwxrwxrwx .* link-rel -> one$/m);
    expect(r.stdout).toMatch(/^drwxrwxrwt .* tmp$/m);
  });

  it("lists Tiny Core's core.gz with as many entries as GNU cpio", async () => {
    const core = join(fixturesDir(), "tinycore/4.x/x86/release/distribution_files/core.gz");
    const r = await mkbundleIn(["ls", core]);
    expect(r.code).toBe(0);
    const gnu = sh(`zcat ${q(core)} | cpio -t --quiet | wc -l`)
      .toString()
      .trim();
    expect(r.stdout.trim().split("\n")).toHaveLength(Number(gnu));
  });

  it("descends into a directory, and into a .tcz inside a tar.gz", async () => {
    const core = join(fixturesDir(), "tinycore/4.x/x86/release/distribution_files/core.gz");
    const etc = await mkbundleIn(["ls", core, "etc/init.d"]);
    expect(etc.code).toBe(0);
    expect(etc.stdout).toMatch(/ etc\/init\.d\/tc-config$/m);
    const tcz = join(fixturesDir(), "tinycore/4.x/x86/tcz");
    const bundle = join(dir, "exts.tar.gz");
    sh(`tar -C ${q(tcz)} -czf ${q(bundle)} bash.tcz ncurses.tcz`);
    const r = await mkbundleIn(["ls", bundle, "bash.tcz", "usr/local/bin"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^-rwxr-xr-x\s+0\s+0\s+735344 .* usr\/local\/bin\/bash$/m);
  });
});

describe("mkbundle ls and cat on ISO images", () => {
  const iso = () => join(fixturesDir(), "tinycore/4.x/x86/release/Core-4.4.iso");

  it("lists the ISO like xorriso and nests into its initrd", async () => {
    const r = await mkbundleIn(["ls", iso()]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^-rw-r--r--\s+0\s+0\s+2225125 .* boot\/core\.gz$/m);
    const etc = await mkbundleIn(["ls", "--json", iso(), "boot/core.gz", "etc"]);
    expect(etc.code).toBe(0);
    const listed = JSON.parse(etc.stdout) as Listed[];
    expect(listed.find((e) => e.path === "etc/shadow")).toMatchObject({ type: "file", mode: 0o640 });
    const cfg = await mkbundleIn(["cat", iso(), "boot/isolinux/isolinux.cfg"]);
    expect(cfg.stdout).toContain("append loglevel=3 nozswap");
    const passwd = await mkbundleIn(["cat", iso(), "boot/core.gz", "etc/passwd"]);
    expect(passwd.stdout).toMatch(/^root:x:0:0:/m);
  });

  it("names a truncated ISO", async () => {
    const cut = write("cut.iso", "");
    writeFileSync(cut, readFileSync(iso()).subarray(0, 40_000));
    const r = await mkbundleIn(["ls", cut]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toMatch(
      /^mkbundle: .*cut\.iso \(iso9660\): truncated: volume descriptors end at sector 19 without a terminator$/,
    );
  });
});

describe("mkbundle cat", () => {
  it("returns a UTF-8-named file and a 5 MB file byte-identical", async () => {
    const utf8 = sh(`node ${q(join(process.cwd(), "dist/src/cli/main.js"))} cat ${q(pair)} ${q(UTF8_NAME)}`);
    expect(utf8.equals(readFileSync(join(tree, UTF8_NAME)))).toBe(true);
    const big = sh(`node ${q(join(process.cwd(), "dist/src/cli/main.js"))} cat ${q(pair)} five-mb.bin`);
    expect(big.equals(readFileSync(join(tree, "five-mb.bin")))).toBe(true);
  });

  it("follows symlinks and hard links inside the container, and reads out of a .tcz", async () => {
    const r = await mkbundleIn(["cat", pair, "link-rel"]);
    expect(r.stdout).toBe("1");
    expect((await mkbundleIn(["cat", pair, "sub/hl-c"])).stdout).toBe("hard\n");
    const bashrc = await mkbundleIn([
      "cat",
      join(fixturesDir(), "tinycore/4.x/x86/tcz/bash.tcz"),
      "usr/local/share/bash/.bashrc",
    ]);
    expect(bashrc.code).toBe(0);
    expect(bashrc.stdout.length).toBe(29);
  });

  it("names a missing path and its container, refuses directories, exit 1", async () => {
    const missing = await mkbundleIn(["cat", pair, "etc/nothing"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim()).toBe(`mkbundle: ${pair}: 'etc/nothing' not found`);
    const d = await mkbundleIn(["cat", pair, "sub"]);
    expect(d.code).toBe(1);
    expect(d.stderr).toContain("'sub' is a dir, not a file");
  });
});

describe("broken input", () => {
  it("truncated and random files fail with one line naming the layer, no stack trace", async () => {
    const whole = readFileSync(pair);
    const cases: [string, Buffer, RegExp][] = [
      ["truncated.gz", whole.subarray(0, whole.length >> 1), /\(gzip\): truncated/],
      ["random.bin", pseudoRandom(100_000, 4), /not a known container/],
      ["cpio-truncated.cpio", readFileSync(join(dir, "a.cpio")).subarray(0, 3000), /\(cpio\): truncated/],
      [
        "tcz-truncated.tcz",
        readFileSync(join(fixturesDir(), "tinycore/4.x/x86/tcz/bash.tcz")).subarray(0, 5000),
        /\(squashfs\): /,
      ],
      ["empty", Buffer.alloc(0), /not a known container/],
    ];
    for (const [name, bytes, why] of cases) {
      const file = write(name, "");
      writeFileSync(file, bytes);
      for (const args of [
        ["ls", file],
        ["cat", file, "anything"],
      ]) {
        const started = Date.now();
        const r = await mkbundleIn(args);
        expect(Date.now() - started).toBeLessThan(20_000);
        expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(1);
        expect(r.stderr.trim().split("\n"), name).toHaveLength(1);
        expect(r.stderr, name).toMatch(why);
        expect(r.stderr).not.toMatch(/\n\s+at /);
      }
    }
  });
});
