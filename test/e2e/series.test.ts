// Both shared Tiny Core generations through the same steps: 4.x x86 (Core) and 10.x x86_64
// (CorePure64 layout). Each gets a copy of its fixture mirror plus a -KERNEL dependency
// (needs-kmod.tcz.dep names kmod-KERNEL.tcz), served over HTTP on 127.0.0.1; lock expands
// KERNEL with the release detected from the base, bundle and rebuild-iso run twice into
// different folders, and xorriso and GNU cpio read what mkbundle ls reads.
import { createHash } from "node:crypto";
import { cpSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { Lock } from "../../src/lock/lock-file.js";
import { mkbundleAsync } from "../helpers/cli.js";
import { startMirror, type MirrorServer } from "../helpers/mirror-server.js";
import { fixturesDir } from "../helpers/paths.js";
import { q, sh } from "../helpers/run.js";
import { tempDir } from "../helpers/tmp.js";

const { dir, write } = tempDir("mkbundle-series-");
const sha256 = (f: string) => createHash("sha256").update(readFileSync(f)).digest("hex");

interface Series {
  release: string;
  arch: "x86" | "x86_64";
  /** What the base says its kernel is, and how mkbundle finds out. */
  kernel: string;
  kernelSource: string;
  initrd: string;
  kernelFile: string;
  builtin: string;
  /** What --builtin auto chooses for this base: 4.x's initrd has no loop or squashfs driver. */
  mode: "unpack" | "load";
  /** base: lines beyond release and arch (4.x: the fixture ISO; 10.x: the default CorePure64-current.iso). */
  base: string;
}

const SERIES: Series[] = [
  {
    release: "4.x",
    arch: "x86",
    kernel: "3.0.21-tinycore",
    kernelSource: "bzImage header",
    initrd: "boot/core.gz",
    kernelFile: "boot/vmlinuz",
    builtin: "dmidecode",
    mode: "unpack",
    base: "  iso: Core-4.4.iso\n",
  },
  {
    release: "10.x",
    arch: "x86_64",
    kernel: "6.1.0-57-amd64",
    kernelSource: "initrd lib/modules",
    initrd: "boot/corepure64.gz",
    kernelFile: "boot/vmlinuz64",
    builtin: "dosfstools",
    mode: "load",
    base: "",
  },
];

let mirror: MirrorServer;
const root = join(dir, "mirror");

beforeAll(async () => {
  for (const s of SERIES) {
    const from = join(fixturesDir(), "tinycore", s.release, s.arch);
    const to = join(root, s.release, s.arch);
    cpSync(from, to, { recursive: true, dereference: true });
    const tcz = join(to, "tcz");
    const fake = (name: string, deps?: string) => {
      const src = join(dir, "src", s.arch, name);
      mkdirSync(src, { recursive: true });
      writeFileSync(join(src, name), `${name}\n`);
      sh(`mksquashfs ${q(src)} ${q(join(tcz, `${name}.tcz`))} -noappend -quiet -no-progress -b 4096 -no-xattrs`);
      sh(`cd ${q(tcz)} && md5sum ${name}.tcz > ${name}.tcz.md5.txt`);
      if (deps !== undefined) writeFileSync(join(tcz, `${name}.tcz.dep`), deps);
    };
    fake("needs-kmod", "kmod-KERNEL.tcz\n");
    fake(`kmod-${s.kernel}`);
  }
  mirror = await startMirror(root);
}, 60_000);

afterAll(async () => {
  await mirror?.close();
});

describe.each(SERIES)("series $release $arch", (s) => {
  const name = `series-${s.arch.replace("_", "-")}`;
  let manifest: string;
  const wd = join(dir, `wd-${s.arch}`);
  const run = async (args: string[]) => {
    const r = await mkbundleAsync([...args, "--mirror", mirror.url, "--work-dir", wd]);
    expect(r.code, r.stderr).toBe(0);
    return r;
  };

  beforeAll(() => {
    manifest = write(
      `${name}/${name}.yaml`,
      `name: ${name}\nversion: 1.0.0\nbase:\n  release: ${s.release}\n  arch: ${s.arch}\n${s.base}` +
        `extensions:\n  builtin: [${s.builtin}, needs-kmod]\n  mirror: [needs-kmod]\n` +
        `boot:\n  append: [console=ttyS0]\n  timeout: 0\n`,
    );
  });

  it("lock expands -KERNEL with the release the base reports", async () => {
    await run(["lock", manifest]);
    const lock = parse(readFileSync(manifest.replace(/\.yaml$/, ".lock"), "utf8")) as Lock;
    expect(lock).toMatchObject({ release: s.release, arch: s.arch, kernel: s.kernel, kernelSource: s.kernelSource });
    expect(lock.extensions.filter((e) => e.role === "builtin").map((e) => e.name)).toEqual([
      s.builtin,
      `kmod-${s.kernel}`,
      "needs-kmod",
    ]);
    expect(lock.base.url).toMatch(
      s.arch === "x86_64" ? /\/10\.x\/x86_64\/release\/CorePure64-(current|10\.1)\.iso$/ : /Core-4\.4\.iso$/,
    );
  });

  it("bundle and rebuild-iso are byte-identical across two runs; xorriso and cpio read what ls lists", async () => {
    const outs = [join(dir, `${s.arch}-a`), join(dir, `${s.arch}-b`)];
    const made: { bundle: string; iso: string }[] = [];
    for (const out of outs) {
      const bundle = (await run(["bundle", manifest, "--out", out])).stdout.trim();
      const iso = (await run(["rebuild-iso", "--bundle", bundle, "--out", out])).stdout.trim();
      made.push({ bundle, iso });
    }
    expect(sha256(made[0]!.bundle)).toBe(sha256(made[1]!.bundle));
    expect(sha256(made[0]!.iso)).toBe(sha256(made[1]!.iso));
    const iso = made[0]!.iso;

    // The ISO: xorriso's file list is mkbundle's.
    const ours = (await run(["ls", "--json", iso])).stdout;
    const ourPaths = (JSON.parse(ours) as { path: string }[]).map((e) => e.path).filter((p) => p !== ".");
    const theirs = sh(`xorriso -indev ${q(iso)} -find / 2>/dev/null`)
      .toString()
      .split("\n")
      .filter(Boolean)
      .map((l) => l.replace(/^'\/?|'$/g, ""))
      .filter(Boolean);
    expect([...ourPaths].sort()).toEqual([...theirs].sort());
    expect(ourPaths).toContain(s.kernelFile);

    // The initrd: GNU cpio lists what mkbundle lists, and the builtin extensions are there.
    const initrdPaths = (JSON.parse((await run(["ls", "--json", iso, s.initrd])).stdout) as { path: string }[])
      .map((e) => e.path)
      .filter((p) => p !== ".");
    const extracted = join(dir, `${s.arch}-initrd.gz`);
    sh(`osirrox -indev ${q(iso)} -extract /${s.initrd} ${q(extracted)} 2>/dev/null`);
    const cpio = sh(`zcat ${q(extracted)} | cpio -it --quiet`)
      .toString()
      .split("\n")
      .filter((p) => p && p !== ".");
    expect([...new Set(initrdPaths)].sort()).toEqual([...new Set(cpio)].sort());
    const builtin = [s.builtin, `kmod-${s.kernel}`, "needs-kmod"];
    if (s.mode === "load") {
      const onboot = (await run(["cat", iso, s.initrd, "tmp/builtin/onboot.lst"])).stdout;
      // onboot.lst names what the manifest asked for; tce-load loads each one's .dep first.
      expect(onboot.split("\n").filter(Boolean)).toEqual([`${s.builtin}.tcz`, "needs-kmod.tcz"]);
      for (const n of builtin) expect(initrdPaths).toContain(`tmp/builtin/optional/${n}.tcz`);
      const dep = (await run(["cat", iso, s.initrd, "tmp/builtin/optional/needs-kmod.tcz.dep"])).stdout;
      expect(dep).toBe("kmod-KERNEL.tcz\n");
    } else {
      for (const n of builtin) expect(initrdPaths).toContain(`usr/local/tce.installed/${n}`);
      expect(initrdPaths).not.toContain("tmp/builtin/onboot.lst");
    }
    expect(initrdPaths).toContain(`tmp/tinycorelinux/${s.release}/${s.arch}/tcz/kmod-${s.kernel}.tcz`);
  }, 240_000);
});
