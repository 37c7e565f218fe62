// `mkbundle lock` against a real HTTP mirror on 127.0.0.1 (with faults) and a directory mirror.
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { Lock } from "../../src/lock/lock-file.js";
import { mkbundleAsync, mkbundleIn } from "../helpers/cli.js";
import { makeGemSource } from "../helpers/gem-source.js";
import { startMirror, type MirrorServer } from "../helpers/mirror-server.js";
import { fixturesDir } from "../helpers/paths.js";
import { q, sh } from "../helpers/run.js";
import { tempDir } from "../helpers/tmp.js";

const { dir, write } = tempDir("mkbundle-lock-");
const tcz = () => join(fixturesDir(), "tinycore/4.x/x86/tcz");
const sha256 = (f: string) => createHash("sha256").update(readFileSync(f)).digest("hex");
let server: MirrorServer;
let extra: MirrorServer; // a copy of the fixtures with extra (and broken) extensions
const extraRoot = join(dir, "extra-mirror");

function manifest(name: string, body: string): string {
  return write(`${name}/${name}.yaml`, `name: ${name}\nbase:\n  iso: Core-4.4.iso\n${body}`);
}

const lockOf = (m: string) => parse(readFileSync(m.replace(/\.yaml$/, ".lock"), "utf8")) as Lock;
const pins = (l: Lock) =>
  l.extensions.map((e) => ({
    name: e.name,
    role: e.role,
    md5: e.md5,
    sha256: e.sha256,
    size: e.size,
    requiredBy: e.requiredBy,
  }));

beforeAll(async () => {
  server = await startMirror(join(fixturesDir(), "tinycore"));
  // The extra mirror: the fixtures plus a -KERNEL dependency and a chain to an absent extension.
  cpSync(join(fixturesDir(), "tinycore"), extraRoot, { recursive: true, dereference: true });
  const t = join(extraRoot, "4.x/x86/tcz");
  const fake = (name: string, deps?: string) => {
    sh(
      `mkdir -p ${q(join(dir, "src", name))} && echo ${name} > ${q(join(dir, "src", name, name))} && mksquashfs ${q(join(dir, "src", name))} ${q(join(t, `${name}.tcz`))} -noappend -quiet -no-progress -b 4096 -no-xattrs`,
    );
    sh(`cd ${q(t)} && md5sum ${name}.tcz > ${name}.tcz.md5.txt`);
    if (deps !== undefined) writeFileSync(join(t, `${name}.tcz.dep`), deps);
  };
  fake("hwtools", "scsi-KERNEL.tcz\n");
  fake("scsi-3.0.21-tinycore");
  fake("osslsigncode", "openssl-1.1.1.tcz\nbash.tcz\n");
  fake("broken-deps", "lzop\nnot-there-either\n");
  // The mirror's index of extension names, as Tiny Core mirrors publish it.
  writeFileSync(
    join(t, "info.lst"),
    readdirSync(t)
      .filter((n) => n.endsWith(".tcz"))
      .sort()
      .join("\n") + "\n",
  );
  extra = await startMirror(extraRoot);
});

afterAll(async () => {
  await server?.close();
  await extra?.close();
});

describe("mkbundle lock", () => {
  it("pins the closure of [coreutils, bash] over HTTP, dependencies first, with correct md5 and sha256", async () => {
    const m = manifest("http", "extensions:\n  builtin: [coreutils, bash]\n");
    const r = await mkbundleIn(["lock", m, "--mirror", server.url, "--work-dir", join(dir, "wd-http")]);
    expect(r.stderr).toContain("wrote");
    expect(r.code, r.stderr).toBe(0);
    const lock = lockOf(m);
    expect(lock.extensions.map((e) => e.name)).toEqual([
      "libattr",
      "acl",
      "attr",
      "gmp",
      "libcap",
      "coreutils",
      "ncurses-common",
      "ncurses",
      "bash",
    ]);
    for (const e of lock.extensions) {
      expect(e.role).toBe("builtin");
      expect(e.md5).toBe(readFileSync(join(tcz(), `${e.name}.tcz.md5.txt`), "utf8").split(/\s+/)[0]);
      expect(e.sha256).toBe(sha256(join(tcz(), `${e.name}.tcz`)));
    }
    expect(lock.kernel).toBe("3.0.21-tinycore");
    expect(lock.base).toMatchObject({
      url: `${server.url}/4.x/x86/release/Core-4.4.iso`,
      sha256: sha256(join(fixturesDir(), "tinycore/4.x/x86/release/Core-4.4.iso")),
    });
    expect(lock.extensions.find((e) => e.name === "bash")!.requiredBy).toEqual(["extensions.builtin"]);

    // Again: nothing changes and nothing is downloaded.
    const before = readFileSync(m.replace(/\.yaml$/, ".lock"));
    server.log.length = 0;
    const again = await mkbundleIn(["lock", m, "--mirror", server.url, "--work-dir", join(dir, "wd-http")]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain("is up to date");
    expect(readFileSync(m.replace(/\.yaml$/, ".lock")).equals(before)).toBe(true);
    expect(server.log).toEqual([]);

    // --update re-resolves with conditional requests and writes the same bytes.
    const update = await mkbundleIn([
      "lock",
      m,
      "--update",
      "--mirror",
      server.url,
      "--work-dir",
      join(dir, "wd-http"),
    ]);
    expect(update.code, update.stderr).toBe(0);
    expect(readFileSync(m.replace(/\.yaml$/, ".lock")).equals(before)).toBe(true);
    expect(server.log.filter((l) => l.endsWith(".tcz conditional")).length).toBeGreaterThan(0);

    // The directory mirror gives the same extension pins.
    const d = manifest("dir", "extensions:\n  builtin: [coreutils, bash]\n");
    const rd = await mkbundleIn([
      "lock",
      d,
      "--mirror",
      join(fixturesDir(), "tinycore"),
      "--work-dir",
      join(dir, "wd-dir"),
    ]);
    expect(rd.code, rd.stderr).toBe(0);
    expect(pins(lockOf(d))).toEqual(pins(lock));
    expect(lockOf(d).base.sha256).toBe(lock.base.sha256);
  });

  it("pins the mirror closure with its sibling files", async () => {
    const m = manifest("mirrored", "extensions:\n  mirror: [lzop]\n");
    const r = await mkbundleIn(["lock", m, "--mirror", server.url, "--work-dir", join(dir, "wd-http")]);
    expect(r.code, r.stderr).toBe(0);
    const lock = lockOf(m);
    expect(lock.extensions.map((e) => [e.name, e.role, Object.keys(e.files ?? {}).sort()])).toEqual([
      ["lzo2", "mirror", [".list"]],
      ["lzop", "mirror", [".dep", ".list"]],
    ]);
  });

  it("resolves scsi-KERNEL to scsi-3.0.21-tinycore without a kernel: key", async () => {
    const m = manifest("kernel", "extensions:\n  builtin: [hwtools]\n");
    const r = await mkbundleIn(["lock", m, "--mirror", extra.url, "--work-dir", join(dir, "wd-extra")]);
    expect(r.code, r.stderr).toBe(0);
    expect(lockOf(m).extensions.map((e) => e.name)).toEqual(["scsi-3.0.21-tinycore", "hwtools"]);
    expect(lockOf(m).kernelSource).toBe("bzImage header");
  });

  it("fails naming every missing extension with the chain that pulled it in", async () => {
    const m = manifest("missing", "extensions:\n  builtin: [osslsigncode, nothere]\n  mirror: [broken-deps]\n");
    const r = await mkbundleIn(["lock", m, "--mirror", extra.url, "--work-dir", join(dir, "wd-extra")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("missing extension nothere.tcz: listed in extensions.builtin");
    expect(r.stderr).toContain(
      "missing extension openssl-1.1.1.tcz: needed by osslsigncode.tcz, listed in extensions.builtin",
    );
    expect(r.stderr).toContain(
      "missing extension not-there-either.tcz: needed by broken-deps.tcz, listed in extensions.mirror",
    );
    expect(existsSync(m.replace(/\.yaml$/, ".lock"))).toBe(false);
  });

  it("names the manifest line of a missing extension and suggests a name from the mirror's info.lst", async () => {
    const m = manifest("typo", "extensions:\n  builtin: [dmidecode, bahs]\n");
    const r = await mkbundleIn(["lock", m, "--mirror", extra.url, "--work-dir", join(dir, "wd-typo")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `${m}:5:24: missing extension bahs.tcz: listed in extensions.builtin (did you mean 'bash'?)`,
    );
    expect(extra.log.some((l) => l.startsWith("GET /4.x/x86/tcz/info.lst"))).toBe(true);
    // Razor's lists: the line of the list file.
    const b = write("typo/builtin.lst", "# discovery\nlshw\ndmidecod\n");
    const mList = write("typo/mirror.lst", "");
    const razor = await mkbundleIn(["-b", b, "-m", mList, "--work-dir", join(dir, "wd-typo")], {
      env: { MK_BUNDLE_TCL_MIRROR_URI: `${extra.url}/4.x/x86/tcz` },
    });
    expect(razor.code).toBe(1);
    expect(razor.stderr).toContain(
      `${b}:3:1: missing extension dmidecod.tcz: listed in extensions.builtin (did you mean 'dmidecode'?)`,
    );
  });

  it("records a local mirror relative to the lock: the lock moved elsewhere still builds the identical ISO", async () => {
    const body = "version: 1.0.0\nextensions:\n  builtin: [dmidecode]\n";
    const a = manifest("portable", body);
    const env = { SOURCE_DATE_EPOCH: "1700000000" };
    const wd = join(dir, "wd-portable");
    const first = await mkbundleIn(
      [
        "build",
        a,
        "--mirror",
        join(fixturesDir(), "tinycore"),
        "--work-dir",
        wd,
        "--out",
        join(dir, "port-a"),
        "--json",
      ],
      { env },
    );
    expect(first.code, first.stderr).toBe(0);
    const lockText = readFileSync(a.replace(/\.yaml$/, ".lock"), "utf8");
    const lock = parse(lockText) as Lock;
    expect(lock.mirror).toBe(relative(dirname(a), join(fixturesDir(), "tinycore")));
    expect(lock.base.url).toBe(`${lock.mirror}/4.x/x86/release/Core-4.4.iso`);
    expect(lockText).not.toContain("file://");
    // Another checkout: deeper, another work directory, the mirror given by absolute path.
    const moved = join(dir, "elsewhere", "deep", "portable");
    mkdirSync(moved, { recursive: true });
    cpSync(a, join(moved, "portable.yaml"));
    cpSync(a.replace(/\.yaml$/, ".lock"), join(moved, "portable.lock"));
    const second = await mkbundleIn(
      [
        "build",
        join(moved, "portable.yaml"),
        "--mirror",
        join(fixturesDir(), "tinycore"),
        "--work-dir",
        join(dir, "wd-portable-2"),
        "--out",
        join(dir, "port-b"),
        "--json",
      ],
      { env },
    );
    expect(second.code, second.stderr).toBe(0);
    const iso = (r: { stdout: string }) =>
      JSON.parse(r.stdout) as { lock: { status: string }; iso: { sha256: string } };
    expect(iso(second).lock.status).toBe("up to date");
    expect(iso(second).iso.sha256).toBe(iso(first).iso.sha256);
    expect(readFileSync(join(moved, "portable.lock"), "utf8")).toBe(lockText);
  });

  it("rejects a corrupted .tcz with an md5 error naming it, and caches nothing of it", async () => {
    const m = manifest("corrupt", "extensions:\n  builtin: [dmidecode]\n");
    const url = "/4.x/x86/tcz/dmidecode.tcz";
    server.faults.set(url, "wrong-bytes");
    const wd = join(dir, "wd-corrupt");
    try {
      const r = await mkbundleIn(["lock", m, "--mirror", server.url, "--work-dir", wd]);
      expect(r.code).toBe(1);
      const expected = readFileSync(join(tcz(), "dmidecode.tcz.md5.txt"), "utf8").split(/\s+/)[0];
      expect(r.stderr).toMatch(
        new RegExp(`md5 mismatch for ${server.url}${url}: expected ${expected}, got [0-9a-f]{32}`),
      );
      const index = readdirSync(join(wd, "cache/index")).map((f) => readFileSync(join(wd, "cache/index", f), "utf8"));
      expect(index.some((t) => t.includes(`${url}"`))).toBe(false);
      expect(readdirSync(join(wd, "cache/tmp"))).toEqual([]);
    } finally {
      server.faults.delete(url);
    }
  });

  it("resumes a dropped download with a Range request, retries a 500, times out a stall", async () => {
    const m = manifest("faults", "extensions:\n  builtin: [util-linux, lshw]\n");
    const wd = join(dir, "wd-faults");
    server.faults.set("/4.x/x86/tcz/util-linux.tcz", "drop-mid-body");
    server.faults.set("/4.x/x86/tcz/lshw.tcz", "500-once");
    server.log.length = 0;
    const r = await mkbundleIn(["lock", m, "--mirror", server.url, "--work-dir", wd]);
    expect(r.code, r.stderr).toBe(0);
    expect(server.log.filter((l) => l.startsWith("GET /4.x/x86/tcz/util-linux.tcz range=bytes="))).toHaveLength(1);
    expect(server.log.filter((l) => l === "GET /4.x/x86/tcz/lshw.tcz")).toHaveLength(2); // 500, then 200
    expect(lockOf(m).extensions.find((e) => e.name === "util-linux")!.sha256).toBe(
      sha256(join(tcz(), "util-linux.tcz")),
    );

    const stalled = manifest("stall", "extensions:\n  builtin: [pv]\n");
    server.faults.set("/4.x/x86/tcz/pv.tcz", "stall");
    try {
      const s = await mkbundleIn([
        "lock",
        stalled,
        "--mirror",
        server.url,
        "--work-dir",
        wd,
        "--download-timeout",
        "1",
      ]);
      expect(s.code).toBe(1);
      expect(s.stderr).toContain(`timed out after 1 s waiting for ${server.url}/4.x/x86/tcz/pv.tcz`);
    } finally {
      server.faults.delete("/4.x/x86/tcz/pv.tcz");
    }
  }, 90_000);

  it("names a dependency that answers 404, with its chain", async () => {
    const m = manifest("dep404", "extensions:\n  builtin: [bash]\n");
    server.faults.set("/4.x/x86/tcz/ncurses-common.tcz", "404");
    try {
      const r = await mkbundleIn(["lock", m, "--mirror", server.url, "--work-dir", join(dir, "wd-404")]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(
        "missing extension ncurses-common.tcz: needed by ncurses.tcz, needed by bash.tcz, listed in extensions.builtin",
      );
    } finally {
      server.faults.delete("/4.x/x86/tcz/ncurses-common.tcz");
    }
  });

  it("works --offline from the cache after a run, and names everything missing with an empty cache", async () => {
    const m = manifest("offline", "extensions:\n  builtin: [nano]\n");
    const wd = join(dir, "wd-offline");
    const local = await startMirror(join(fixturesDir(), "tinycore"));
    const first = await mkbundleIn(["lock", m, "--mirror", local.url, "--work-dir", wd]);
    expect(first.code, first.stderr).toBe(0);
    const url = local.url;
    await local.close();
    const again = await mkbundleIn(["lock", m, "--update", "--offline", "--mirror", url, "--work-dir", wd]);
    expect(again.code, again.stderr).toBe(0);
    const empty = await mkbundleIn([
      "lock",
      m,
      "--update",
      "--offline",
      "--mirror",
      url,
      "--work-dir",
      join(dir, "wd-empty"),
    ]);
    expect(empty.code).toBe(1);
    expect(empty.stderr).toContain("--offline:");
    expect(empty.stderr).toContain(`${url}/4.x/x86/release/Core-4.4.iso`);
    expect(empty.stderr).toContain(`${url}/4.x/x86/tcz/nano.tcz`);
  });

  it("two lock processes racing on one cache both succeed", async () => {
    const wd = join(dir, "wd-race");
    const a = manifest("race-a", "extensions:\n  builtin: [coreutils, bash, lshw]\n");
    const b = manifest("race-b", "extensions:\n  builtin: [coreutils, bash, lshw]\n");
    const [ra, rb] = await Promise.all([
      mkbundleAsync(["lock", a, "--mirror", server.url, "--work-dir", wd]),
      mkbundleAsync(["lock", b, "--mirror", server.url, "--work-dir", wd]),
    ]);
    expect([ra.code, rb.code], ra.stderr + rb.stderr).toEqual([0, 0]);
    expect(pins(lockOf(a))).toEqual(pins(lockOf(b)));
    for (const e of lockOf(a).extensions)
      expect(sha256(join(wd, "cache/blobs", e.sha256.slice(0, 2), e.sha256))).toBe(e.sha256);
    expect(readdirSync(join(wd, "cache/tmp"))).toEqual([]);
  });

  it("--frozen fails when the lock is missing, stale, or a download does not match it", async () => {
    const m = manifest("frozen", "extensions:\n  builtin: [pv]\n");
    const wd = join(dir, "wd-frozen");
    const missing = await mkbundleIn(["lock", m, "--frozen", "--mirror", server.url, "--work-dir", wd]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/--frozen: the lock file .*frozen\.lock does not exist/);
    expect((await mkbundleIn(["lock", m, "--mirror", server.url, "--work-dir", wd])).code).toBe(0);
    expect((await mkbundleIn(["lock", m, "--frozen", "--mirror", server.url, "--work-dir", wd])).code).toBe(0);
    // A mirror whose pv.tcz changed (with a matching md5.txt): the pin catches it.
    rmSync(join(wd, "cache"), { recursive: true });
    server.faults.set("/4.x/x86/tcz/pv.tcz", "wrong-bytes");
    try {
      const changed = await mkbundleIn(["lock", m, "--frozen", "--mirror", server.url, "--work-dir", wd]);
      expect(changed.code).toBe(1);
      expect(changed.stderr).toMatch(/(md5|sha256) mismatch for .*pv\.tcz: expected [0-9a-f]+, got [0-9a-f]+/);
    } finally {
      server.faults.delete("/4.x/x86/tcz/pv.tcz");
    }
    writeFileSync(m, readFileSync(m, "utf8").replace("[pv]", "[pv, tar]"));
    const stale = await mkbundleIn(["lock", m, "--frozen", "--mirror", server.url, "--work-dir", wd]);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toMatch(/--frozen: the lock file .*frozen\.lock is stale/);
  });

  it("resolves gems from a compact index: requirements, transitive dependencies, verified .gem files", async () => {
    const gems = join(dir, "gem-source");
    await makeGemSource(gems, {
      facter: { "1.6.0": [], "1.7.0": ["json_pure:>= 1.5"], "2.0.0.rc1": [] },
      json_pure: { "1.4.6": [], "1.5.0": [], "1.7.7": [], "1.8.6": [], "2.0.0": [] },
      daemons: { "1.1.9": [], "1.2.6": [] },
      rake: { "12.3.3": [], "13.0.1": [], "13.0.6": [], "13.1.0": [] },
    });
    const gemServer = await startMirror(gems);
    try {
      const m = manifest(
        "gems",
        `gems:\n  source: ${gemServer.url}\n  require: ["facter", "json_pure >= 1.7.7, < 2", "daemons ~> 1.1.0", "rake ~> 13.0, != 13.0.6"]\n`,
      );
      const r = await mkbundleIn(["lock", m, "--mirror", server.url, "--work-dir", join(dir, "wd-gems")]);
      expect(r.code, r.stderr).toBe(0);
      const lock = lockOf(m);
      expect(lock.gems.map((g) => `${g.name} ${g.version}`)).toEqual([
        "daemons 1.1.9",
        "facter 1.7.0",
        "json_pure 1.8.6",
        "rake 13.1.0",
      ]);
      expect(lock.gems.find((g) => g.name === "json_pure")!.requiredBy).toEqual(["facter", "gems.require"]);
      for (const g of lock.gems) expect(g.sha256).toBe(sha256(join(gems, "gems", `${g.name}-${g.version}.gem`)));
      const conflict = manifest(
        "gem-conflict",
        `gems:\n  source: ${gemServer.url}\n  require: ["json_pure < 1.5", "facter >= 1.7"]\n`,
      );
      const c = await mkbundleIn(["lock", conflict, "--mirror", server.url, "--work-dir", join(dir, "wd-gems")]);
      expect(c.code).toBe(1);
      expect(c.stderr).toMatch(
        /no version of gem 'json_pure' satisfies < 1\.5 \(from gems\.require\) and >= 1\.5 \(from facter 1\.7\.0\)/,
      );
    } finally {
      await gemServer.close();
    }
  });

  it("an unreachable gem source is one cause, not also 'not on the gem source'", async () => {
    const gone = await startMirror(join(dir, "gem-source"));
    const url = gone.url;
    await gone.close(); // nothing listens there any more
    const m = manifest("gem-down", `gems:\n  source: ${url}\n  require: [daemons]\n`);
    const r = await mkbundleIn(["lock", m, "--mirror", server.url, "--work-dir", join(dir, "wd-gem-down")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`gave up after 5 attempts: connection refused by ${url}`);
    expect(r.stderr).not.toContain("is not on the gem source");
  });
});

describe("mkbundle cache", () => {
  it("lists blobs with their URLs and collects those no lock references", async () => {
    const wd = join(dir, "wd-cache");
    const keepDir = join(dir, "keep");
    mkdirSync(keepDir);
    const kept = write("keep/kept.yaml", "name: kept\nbase:\n  iso: Core-4.4.iso\nextensions:\n  builtin: [pv]\n");
    const dropped = write(
      "drop/dropped.yaml",
      "name: dropped\nbase:\n  iso: Core-4.4.iso\nextensions:\n  builtin: [tar]\n",
    );
    for (const f of [kept, dropped])
      expect((await mkbundleIn(["lock", f, "--mirror", server.url, "--work-dir", wd])).code).toBe(0);
    const ls = await mkbundleIn(["cache", "ls", "--json", "--work-dir", wd]);
    const blobs = JSON.parse(ls.stdout) as { sha256: string; urls: string[] }[];
    const tarSha = sha256(join(tcz(), "tar.tcz"));
    expect(blobs.find((b) => b.sha256 === tarSha)!.urls).toEqual([`${server.url}/4.x/x86/tcz/tar.tcz`]);
    // A partial download of a killed run (its pid is gone), and one of a run going on now.
    const dead = join(wd, "cache/tmp/999999999-a1b2c3");
    const live = join(wd, `cache/tmp/${process.pid}-d4e5f6`);
    writeFileSync(dead, Buffer.alloc(2048));
    writeFileSync(live, Buffer.alloc(10));
    // Without --yes, gc lists what it would remove and removes nothing.
    const before = (JSON.parse(ls.stdout) as unknown[]).length;
    const dry = await mkbundleIn(["cache", "gc", keepDir, "--work-dir", wd]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stderr).toContain("and 1 partial download of interrupted runs (2.0 KiB)");
    expect(existsSync(dead)).toBe(true);
    expect(dry.stdout).toContain(`${tarSha} `);
    expect(dry.stdout).toContain(`${server.url}/4.x/x86/tcz/tar.tcz`);
    expect(dry.stderr).toMatch(/would keep \d+ blobs referenced by 1 lock file; would remove \d+ blobs .*--yes/);
    const listed = JSON.parse((await mkbundleIn(["cache", "ls", "--json", "--work-dir", wd])).stdout) as unknown[];
    expect(listed.length).toBe(before);
    // A folder without lock files (Razor's flow writes none) would empty the cache: refused.
    const empty = join(dir, "no-locks");
    mkdirSync(empty);
    const refused = await mkbundleIn(["cache", "gc", empty, "--yes", "--work-dir", wd]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/no lock file under .*no-locks: gc would remove all \d+ blobs/);
    const gc = await mkbundleIn(["cache", "gc", keepDir, "--yes", "--work-dir", wd]);
    expect(gc.code, gc.stderr).toBe(0);
    expect(gc.stderr).toMatch(/referenced by 1 lock file; removed \d+ blobs and 1 partial download/);
    expect([existsSync(dead), existsSync(live)]).toEqual([false, true]);
    const after = JSON.parse((await mkbundleIn(["cache", "ls", "--json", "--work-dir", wd])).stdout) as {
      sha256: string;
    }[];
    expect(after.map((b) => b.sha256)).not.toContain(tarSha);
    expect(after.map((b) => b.sha256)).toContain(sha256(join(tcz(), "pv.tcz")));
    expect(after.map((b) => b.sha256)).toContain(lockOf(kept).base.sha256);
    // What the kept lock needs is still there: offline works.
    expect((await mkbundleIn(["lock", kept, "--offline", "--mirror", server.url, "--work-dir", wd])).code).toBe(0);
  });
});
