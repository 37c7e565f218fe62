// Issue "integrity and secrets": only verified bytes reach the cache and the image; names
// from remote metadata never become paths; temporary names are never followed; rebuild-iso
// uses the bundle just written; a password never appears in any output.
import { createHash } from "node:crypto";
import {
  cpSync,
  existsSync,
  lstatSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Agent } from "undici";
import { parse } from "yaml";
import type { Lock } from "../../src/lock/lock-file.js";
import { download, proxyDispatcher } from "../../src/net/download.js";
import { humanBytes } from "../../src/store/progress.js";
import { mkbundleIn } from "../helpers/cli.js";
import { startMirror, type MirrorServer } from "../helpers/mirror-server.js";
import { fixturesDir, repoRoot } from "../helpers/paths.js";
import { q, sh } from "../helpers/run.js";
import { tempDir } from "../helpers/tmp.js";

const { dir, write } = tempDir("mkbundle-integrity-");
const mirrorRoot = join(dir, "mirror");
const tcz = () => join(mirrorRoot, "4.x/x86/tcz");
const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");
let server: MirrorServer;

const manifest = (name: string, body: string) =>
  write(`${name}/${name}.yaml`, `name: ${name}\nversion: 1.0.0\nbase:\n  iso: Core-4.4.iso\n${body}`);
const lockOf = (m: string) => parse(readFileSync(m.replace(/\.yaml$/, ".lock"), "utf8")) as Lock;
const blob = (wd: string, s: string) => join(wd, "cache/blobs", s.slice(0, 2), s);
/** Every blob in the cache is the bytes its name says, and no temporary file is left. */
function cacheIsClean(wd: string): void {
  for (const d of existsSync(join(wd, "cache/blobs")) ? readdirSync(join(wd, "cache/blobs")) : []) {
    for (const f of readdirSync(join(wd, "cache/blobs", d)))
      expect(sha256(readFileSync(join(wd, "cache/blobs", d, f)))).toBe(f);
  }
  expect(readdirSync(join(wd, "cache/tmp"))).toEqual([]);
}

beforeAll(async () => {
  cpSync(join(fixturesDir(), "tinycore"), mirrorRoot, { recursive: true, dereference: true });
  writeFileSync(join(tcz(), "evil.tcz.dep"), "bash\n../../../../tmp/outside/secret\n");
  cpSync(join(tcz(), "pv.tcz"), join(tcz(), "evil.tcz"));
  cpSync(join(tcz(), "pv.tcz.md5.txt"), join(tcz(), "evil.tcz.md5.txt"));
  server = await startMirror(mirrorRoot);
});
afterAll(() => server?.close());

describe("downloads that misbehave leave only verified bytes", () => {
  it("a dropped connection answered again with a plain 200 (Range ignored) stores the right bytes", async () => {
    const m = manifest("resume200", "extensions:\n  builtin: [util-linux]\n");
    const wd = join(dir, "wd-resume");
    server.faults.set("/4.x/x86/tcz/util-linux.tcz", "drop-then-200");
    try {
      const r = await mkbundleIn(["lock", m, "--mirror", server.url, "--work-dir", wd]);
      expect(r.code, r.stderr).toBe(0);
      // Each byte counted once: the restarted transfer takes back what the dropped one counted.
      const fetched = ["release/Core-4.4.iso", "tcz/util-linux.tcz.md5.txt", "tcz/util-linux.tcz"];
      const total = fetched.reduce((n, f) => n + statSync(join(mirrorRoot, "4.x/x86", f)).size, 0);
      expect(r.stderr).toContain(`3 files, 3 downloaded (${humanBytes(total)}), 0 from the cache`);
    } finally {
      server.faults.delete("/4.x/x86/tcz/util-linux.tcz");
    }
    const pin = lockOf(m).extensions.find((e) => e.name === "util-linux")!;
    expect(pin.sha256).toBe(sha256(readFileSync(join(tcz(), "util-linux.tcz"))));
    expect(readFileSync(blob(wd, pin.sha256)).equals(readFileSync(join(tcz(), "util-linux.tcz")))).toBe(true);
    cacheIsClean(wd);
  });

  it("an endless body, a dripping one, and an exploding gem index each end in a clear error within their limits", async () => {
    const wd = join(dir, "wd-limits");
    const endless = manifest("endless", "extensions:\n  builtin: [bash]\n");
    server.faults.set("/4.x/x86/tcz/bash.tcz.dep", "endless");
    try {
      const r = await mkbundleIn(["lock", endless, "--mirror", server.url, "--work-dir", wd]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(
        `${server.url}/4.x/x86/tcz/bash.tcz.dep sent more than 16777216 bytes, the most this file may have`,
      );
    } finally {
      server.faults.delete("/4.x/x86/tcz/bash.tcz.dep");
    }
    cacheIsClean(wd);

    const drip = manifest("drip", "extensions:\n  builtin: [pv]\n");
    server.faults.set("/4.x/x86/tcz/pv.tcz", "drip");
    try {
      const r = await mkbundleIn(["lock", drip, "--mirror", server.url, "--work-dir", wd, "--download-timeout", "3"]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(
        `timed out after 3 s waiting for ${server.url}/4.x/x86/tcz/pv.tcz (--download-timeout: the whole transfer, retries included)`,
      );
    } finally {
      server.faults.delete("/4.x/x86/tcz/pv.tcz");
    }
    cacheIsClean(wd);

    // Every gem depends on ten new gems.
    let requests = 0;
    const gems = createServer((req, res) => {
      requests++;
      const name = /^\/info\/(.+)$/.exec(req.url ?? "")?.[1];
      if (!name) return void res.writeHead(404).end();
      const deps = Array.from({ length: 10 }, (_, i) => `${name}_${i}:>= 0`).join(",");
      res.writeHead(200).end(`---\n1.0 ${deps}|checksum:${"0".repeat(64)}\n`);
    });
    await new Promise<void>((r) => gems.listen(0, "127.0.0.1", r));
    try {
      const url = `http://127.0.0.1:${(gems.address() as AddressInfo).port}`;
      const fan = manifest("fanout", `gems:\n  source: ${url}\n  require: [root]\n`);
      const r = await mkbundleIn(["lock", fan, "--mirror", server.url, "--work-dir", wd]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("gem resolution needs more than 500 gems");
      expect(requests).toBeLessThanOrEqual(501);
    } finally {
      await new Promise<void>((r) => gems.close(() => r()));
    }
    cacheIsClean(wd);
  }, 60_000);
});

describe("a host that does not resolve", () => {
  it("says so and suggests --mirror or --offline (no DNS query leaves the machine: the connector fails as a resolver would)", async () => {
    const unresolvable = new Agent({
      connect: (_opts, done) =>
        done(Object.assign(new Error("getaddrinfo ENOTFOUND mirror.example"), { code: "ENOTFOUND" }), null),
    });
    await expect(
      download({ kind: "http", url: "http://mirror.example/4.x/x86/tcz/pv.tcz" }, join(dir, "dns.tcz"), {
        timeoutMs: 5000,
        retries: 0,
        backoffMs: 0,
        maxBytes: 1 << 20,
        dispatcher: unresolvable,
      }),
    ).rejects.toThrow(
      /cannot resolve the host of http:\/\/mirror\.example\/4\.x\/x86\/tcz\/pv\.tcz \(ENOTFOUND.*--mirror.*--offline/,
    );
    await unresolvable.close();
  });
});

describe("the cache verifies what it hands out", () => {
  const wd = join(dir, "wd-tamper");
  let m: string;
  beforeAll(async () => {
    m = manifest("tamper", "extensions:\n  builtin: [pv, dmidecode]\n");
    const r = await mkbundleIn([
      "build",
      m,
      "--builtin",
      "load",
      "--mirror",
      server.url,
      "--work-dir",
      wd,
      "--out",
      join(dir, "out-tamper"),
    ]);
    expect(r.code, r.stderr).toBe(0);
  });

  it("a flipped byte or a replaced blob is repaired from the mirror, or fails --offline; never built", async () => {
    const pv = lockOf(m).extensions.find((e) => e.name === "pv")!;
    const dmidecode = lockOf(m).extensions.find((e) => e.name === "dmidecode")!;
    // A fresh --out each time: an unchanged build in the same --out needs no blob at all.
    for (const [how, damage] of [
      ["flipped", (b: Buffer) => Buffer.concat([b.subarray(0, 100), Buffer.from([b[100]! ^ 1]), b.subarray(101)])],
      ["replaced", () => readFileSync(blob(wd, dmidecode.sha256))],
    ] as const) {
      writeFileSync(blob(wd, pv.sha256), damage(readFileSync(blob(wd, pv.sha256))));
      const offline = await mkbundleIn([
        "build",
        m,
        "--builtin",
        "load",
        "--frozen",
        "--offline",
        "--mirror",
        server.url,
        "--work-dir",
        wd,
        "--out",
        join(dir, `out-tamper-${how}`),
      ]);
      expect(offline.code, `${how}: ${offline.stderr}`).toBe(1);
      expect(offline.stderr).toContain(`the cached blob ${pv.sha256} (pv.tcz) does not match its sha256 any more`);
      expect(offline.stderr).toContain("mkbundle cache verify --repair");
      expect(existsSync(blob(wd, pv.sha256))).toBe(false);
      writeFileSync(blob(wd, pv.sha256), damage(readFileSync(join(tcz(), "pv.tcz"))));
      const online = await mkbundleIn([
        "build",
        m,
        "--builtin",
        "load",
        "--frozen",
        "--mirror",
        server.url,
        "--work-dir",
        wd,
        "--out",
        join(dir, `out-tamper-${how}`),
      ]);
      expect(online.code, `${how}: ${online.stderr}`).toBe(0);
      expect(online.stderr).toContain(
        `warning: the cached blob ${pv.sha256} (pv.tcz) does not match its sha256 any more`,
      );
      expect(sha256(readFileSync(blob(wd, pv.sha256)))).toBe(pv.sha256);
    }
    const iso = join(dir, "out-tamper/tamper-dev-1.0.0.iso");
    const inImage = sh(
      `${q(process.execPath)} ${q(join(repoRoot, "dist/src/cli/main.js"))} cat ${q(iso)} boot/core.gz tmp/builtin/optional/pv.tcz`,
    );
    expect(sha256(inImage)).toBe(pv.sha256);
  }, 120_000);

  it("a file that changed on the mirror since the lock says which pin refused it and what to run", async () => {
    const original = readFileSync(join(tcz(), "pv.tcz"));
    writeFileSync(
      join(tcz(), "pv.tcz"),
      Buffer.concat([original.subarray(0, 100), Buffer.from([original[100]! ^ 1]), original.subarray(101)]),
    );
    try {
      const r = await mkbundleIn([
        "build",
        m,
        "--frozen",
        "--mirror",
        server.url,
        "--work-dir",
        join(dir, "wd-changed"),
        "--out",
        join(dir, "out-changed"),
      ]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/mismatch for .*\/pv\.tcz: expected/);
      expect(r.stderr).toContain(
        "(the lock pins other bytes: the file changed on the mirror (or in the cache) since the lock was written; if that is expected, run mkbundle lock --update and review the diff)",
      );
    } finally {
      writeFileSync(join(tcz(), "pv.tcz"), original);
    }
  });

  it("cache verify lists damaged blobs (exit 1) and --repair removes them", async () => {
    const pv = lockOf(m).extensions.find((e) => e.name === "pv")!;
    writeFileSync(blob(wd, pv.sha256), "not pv at all");
    const check = await mkbundleIn(["cache", "verify", "--work-dir", wd]);
    expect(check.code).toBe(1);
    expect(check.stderr).toContain(`warning: ${pv.sha256}: its bytes hash to ${sha256(Buffer.from("not pv at all"))}`);
    const repair = await mkbundleIn(["cache", "verify", "--repair", "--work-dir", wd]);
    expect(repair.code, repair.stderr).toBe(0);
    expect(repair.stderr).toMatch(/\d+ blobs checked, 1 damaged, removed/);
    expect(existsSync(blob(wd, pv.sha256))).toBe(false);
    expect((await mkbundleIn(["cache", "verify", "--work-dir", wd])).code).toBe(0);
  });
});

describe("names from remote metadata never become paths", () => {
  it("a .dep line naming a path is refused (exit 2) before anything is pinned", async () => {
    const m = manifest("evil-dep", "extensions:\n  builtin: [evil]\n");
    const r = await mkbundleIn([
      "bundle",
      m,
      "--mirror",
      server.url,
      "--work-dir",
      join(dir, "wd-evil"),
      "--out",
      join(dir, "out-evil"),
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      "evil.tcz.dep names '../../../../tmp/outside/secret', which is not an extension name (not followed)",
    );
    expect(existsSync(m.replace(/\.yaml$/, ".lock"))).toBe(false);
    expect(existsSync(join(dir, "out-evil"))).toBe(false);
    expect(server.log.some((l) => l.includes("outside"))).toBe(false);
  });

  it("a gem index naming a path, and a hand-edited lock naming one, are refused with exit 2", async () => {
    const gems = createServer((req, res) => {
      if (req.url === "/info/root")
        return void res.writeHead(200).end(`---\n1.0 ../../../../tmp/x:>= 0|checksum:${"0".repeat(64)}\n`);
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => gems.listen(0, "127.0.0.1", r));
    try {
      const m = manifest(
        "evil-gem",
        `gems:\n  source: http://127.0.0.1:${(gems.address() as AddressInfo).port}\n  require: [root]\n`,
      );
      const r = await mkbundleIn(["lock", m, "--mirror", server.url, "--work-dir", join(dir, "wd-evil")]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain("gem 'root' 1.0 depends on '../../../../tmp/x', which is not a gem name");
    } finally {
      await new Promise<void>((r) => gems.close(() => r()));
    }
    const m = manifest("evil-lock", "extensions:\n  builtin: [pv]\n");
    expect((await mkbundleIn(["lock", m, "--mirror", server.url, "--work-dir", join(dir, "wd-evil")])).code).toBe(0);
    const lockFile = m.replace(/\.yaml$/, ".lock");
    for (const [from, to] of [
      ["release: 4.x", "release: ../../../../tmp"],
      ["arch: x86", "arch: ../x"],
      ["name: pv", "name: ../../pv"],
    ]) {
      const original = readFileSync(lockFile, "utf8");
      writeFileSync(lockFile, original.replace(from!, to!));
      const r = await mkbundleIn([
        "bundle",
        m,
        "--mirror",
        server.url,
        "--work-dir",
        join(dir, "wd-evil"),
        "--out",
        join(dir, "out-evil-lock"),
      ]);
      writeFileSync(lockFile, original);
      expect(r.code, `${to}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toContain("the lock file is damaged");
      expect(existsSync(join(dir, "out-evil-lock"))).toBe(false);
    }
  });

  it("a bundle whose name is a path is refused (exit 2) before anything is written", async () => {
    const m = manifest("good-bundle", "");
    const out = join(dir, "out-bundle-name");
    expect(
      (await mkbundleIn(["bundle", m, "--mirror", server.url, "--work-dir", join(dir, "wd-evil"), "--out", out])).code,
    ).toBe(0);
    const unpacked = join(dir, "unpacked");
    sh(`mkdir -p ${q(unpacked)} && tar -C ${q(unpacked)} -xzf ${q(join(out, "good-bundle-bundle-dev.tar.gz"))}`);
    const json = JSON.parse(readFileSync(join(unpacked, "bundle.json"), "utf8")) as {
      name: string;
      manifest: { name: string };
    };
    json.name = "../../../../tmp/x/pwn";
    writeFileSync(join(unpacked, "bundle.json"), JSON.stringify(json));
    const evil = join(dir, "evil-bundle-dev.tar.gz");
    sh(`tar -C ${q(unpacked)} -czf ${q(evil)} bundle.json $(cd ${q(unpacked)} && ls | grep -v bundle.json)`);
    const evilOut = join(dir, "out-evil-bundle");
    const r = await mkbundleIn(["rebuild-iso", "1.0", "--bundle", evil, "--out", evilOut]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain("name '../../../../tmp/x/pwn' is not valid");
    expect(existsSync(evilOut)).toBe(false);
    expect(existsSync("/tmp/x/pwn-dev-1.0.iso")).toBe(false);
  });
});

describe("temporary names and symlinks", () => {
  it("a download never writes through an existing name or a symlink", async () => {
    const target = write("victim.txt", "keep me\n");
    const link = join(dir, "planted-link");
    symlinkSync(target, link);
    await expect(
      download({ kind: "file", path: join(tcz(), "pv.tcz") }, link, {
        timeoutMs: 1000,
        retries: 0,
        backoffMs: 0,
        maxBytes: 1 << 30,
        dispatcher: proxyDispatcher({ httpProxy: "", httpsProxy: "", noProxy: "" }),
      }),
    ).rejects.toThrow(/EEXIST/);
    expect(readFileSync(target, "utf8")).toBe("keep me\n");
  });

  it("an output that is a symlink is replaced by a file, and what it pointed at is untouched", async () => {
    const m = manifest("links", "");
    const out = join(dir, "out-links");
    const victim = write("victim-iso.txt", "keep me too\n");
    sh(`mkdir -p ${q(out)}`);
    symlinkSync(victim, join(out, "links-dev-1.0.0.iso"));
    symlinkSync(victim, join(out, "links-bundle-dev.tar.gz"));
    const r = await mkbundleIn(["build", m, "--mirror", server.url, "--work-dir", join(dir, "wd-links"), "--out", out]);
    expect(r.code, r.stderr).toBe(0);
    expect(lstatSync(join(out, "links-dev-1.0.0.iso")).isFile()).toBe(true);
    expect(lstatSync(join(out, "links-bundle-dev.tar.gz")).isFile()).toBe(true);
    expect(readFileSync(victim, "utf8")).toBe("keep me too\n");
    expect(readdirSync(out).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });
});

describe("the right bundle, the right PXE files", () => {
  it("Razor's -p, -d, -p, then rebuild-iso: the prod ISO, said so; prod and dev PXE files coexist", async () => {
    const out = join(dir, "out-razor");
    const wd = join(dir, "wd-razor");
    const lists = ["-b", write("b.lst", "dmidecode\n"), "-m", write("m.lst", "")];
    const razor = (flag: string) =>
      mkbundleIn([...lists, flag, "--mirror", server.url, "--work-dir", wd, "--out", out], {
        env: { MK_BUNDLE_TC_PASSWD: "x" },
      });
    for (const flag of ["-p", "-d", "-p"]) expect((await razor(flag)).code).toBe(0);
    const r = await mkbundleIn(["rebuild-iso", "0.9.0.1", "--out", out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(join(out, "rz_mk_prod-image.0.9.0.1.iso"));
    expect(r.stderr).toContain(
      `bundle: ${join(out, "razor-microkernel-bundle-prod.tar.gz")} (the last bundle written in ${out}): razor-microkernel, flavour prod, version 0.9.0.1`,
    );
    expect((await razor("-d")).code).toBe(0);
    const d = await mkbundleIn(["rebuild-iso", "0.9.0.1", "--out", out]);
    expect(d.stdout.trim()).toBe(join(out, "rz_mk_debug-image.0.9.0.1.iso"));
    expect(readdirSync(join(out, "pxe")).sort()).toEqual([
      "razor-microkernel-debug-0.9.0.1",
      "razor-microkernel-prod-0.9.0.1",
    ]);
    const sums = readFileSync(join(out, "SHA256SUMS"), "utf8");
    for (const f of [
      "rz_mk_prod-image.0.9.0.1.iso",
      "rz_mk_debug-image.0.9.0.1.iso",
      "pxe/razor-microkernel-prod-0.9.0.1/core.gz",
      "pxe/razor-microkernel-debug-0.9.0.1/core.gz",
    ])
      expect(sums).toContain(`  ${f}\n`);
    expect(sh(`cd ${q(out)} && sha256sum -c SHA256SUMS`).toString()).not.toContain("FAILED");
  }, 120_000);

  it("without a record of the last bundle, several bundles are a refusal that lists them", async () => {
    const out = join(dir, "out-razor");
    // Forget which bundle was written last (the state file keeps every other record).
    const state = join(out, ".mkbundle-state.json");
    const { lastBundle: _last, ...rest } = JSON.parse(readFileSync(state, "utf8")) as { lastBundle?: string };
    writeFileSync(state, JSON.stringify(rest));
    const r = await mkbundleIn(["rebuild-iso", "0.9.0.1", "--out", out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      "2 bundles here and no record of which was written last: razor-microkernel-bundle-debug.tar.gz, razor-microkernel-bundle-prod.tar.gz (pass --bundle FILE)",
    );
  });
});

describe("secrets", () => {
  const MARKER = "Zq7-S3cret-marker";

  it("a password never appears in any output, log, error or file", async () => {
    const out = join(dir, "out-secrets");
    const wd = join(dir, "wd-secrets");
    const runs: { args: string[]; env?: Record<string, string> }[] = [
      {
        args: ["build", manifest("dev-pw", "flavour: dev\npassword:\n  env: MK_PW\n"), "-v", "--json"],
        env: { MK_PW: MARKER },
      },
      {
        args: ["build", manifest("debug-pw", "flavour: debug\npassword:\n  env: MK_PW\n"), "-v"],
        env: { MK_PW: MARKER },
      },
      {
        args: [
          "-b",
          write("sb.lst", "dmidecode\n"),
          "-m",
          write("sm.lst", ""),
          "-c",
          write("secret.conf", `MK_BUNDLE_TC_PASSWD=${MARKER}$(date)\n`),
          "-v",
        ],
      },
      { args: ["-b", write("sb2.lst", "dmidecode\n"), "-m", write("sm2.lst", ""), "-p", "-t", MARKER, "-n"] },
      { args: ["validate", manifest("hash-typo", `password:\n  hash: ${MARKER}\n`)] },
      { args: ["build", manifest("env-typo", `password:\n  env: "${MARKER}"\n`), "--json"] },
      {
        args: [
          "-b",
          write("sb3.lst", "dmidecode\n"),
          "-m",
          write("sm3.lst", ""),
          "-c",
          write("bad.conf", `MK_BUNDLE_TC_PASSWD ${MARKER}\n`),
        ],
      },
    ];
    for (const run of runs) {
      const r = await mkbundleIn([...run.args, "--mirror", server.url, "--work-dir", wd, "--out", out], {
        env: run.env ?? {},
      });
      expect(r.stdout + r.stderr, run.args.join(" ")).not.toContain(MARKER);
    }
    const leaks = sh(`grep -rl ${q(MARKER)} ${q(out)} ${q(wd)} ${q(dir)}/dev-pw ${q(dir)}/debug-pw 2>/dev/null || true`)
      .toString()
      .trim();
    expect(leaks).toBe("");
  }, 120_000);

  it("identical dev builds are byte-identical without SOURCE_DATE_EPOCH; salts never depend on the password", async () => {
    const out = join(dir, "out-salt");
    const wd = join(dir, "wd-salt");
    const m = manifest("salt", "flavour: dev\npassword:\n  env: MK_PW\n");
    const first = await mkbundleIn(["build", m, "--json", "--mirror", server.url, "--work-dir", wd, "--out", out], {
      env: { MK_PW: "first-pw" },
    });
    expect(first.code, first.stderr).toBe(0);
    const second = await mkbundleIn(["build", m, "--json", "--mirror", server.url, "--work-dir", wd, "--out", out], {
      env: { MK_PW: "first-pw" },
    });
    const [a, b] = [first, second].map(
      (r) =>
        JSON.parse(r.stdout) as {
          bundle: { sha256: string; written: boolean; why: string };
          iso: { sha256: string; rebuilt: boolean };
          outputs: Record<string, { path: string; sha256: string; written: boolean }[]>;
        },
    );
    expect(b!.bundle).toEqual({ ...a!.bundle, written: false, why: "same inputs" });
    // An unchanged build still lists every output file (the PXE files too), none rewritten.
    expect(Object.keys(b!.outputs)).toEqual(["iso", "pxe", "sbom"]);
    expect(b!.outputs["pxe"]!.map((f) => f.path)).toEqual(a!.outputs["pxe"]!.map((f) => f.path));
    expect(b!.outputs["pxe"]!.map((f) => f.path.split("/").pop())).toEqual(["vmlinuz", "core.gz", "boot.ipxe"]);
    expect(
      Object.values(b!.outputs)
        .flat()
        .every((f) => !f.written),
    ).toBe(true);
    expect(b!.iso.rebuilt).toBe(false);
    expect(b!.iso.sha256).toBe(a!.iso.sha256);
    const shadow = sh(
      `${q(process.execPath)} ${q(join(repoRoot, "dist/src/cli/main.js"))} cat ${q(join(out, "salt-dev-1.0.0.iso"))} boot/core.gz etc/shadow`,
    ).toString();
    const [, hash, salt] = /^tc:(\$6\$([^$]+)\$[^:]+):/m.exec(shadow)!;
    expect(
      sh(`openssl passwd -6 -salt ${q(salt!)} first-pw`)
        .toString()
        .trim(),
    ).toBe(hash);

    // Fresh builds (no previous bundle) that differ only in the password: the salt is the same.
    const saltOf = async (pw: string, name: string) => {
      const o = join(dir, `out-${name}`);
      const r = await mkbundleIn(["build", m, "--mirror", server.url, "--work-dir", wd, "--out", o], {
        env: { MK_PW: pw, SOURCE_DATE_EPOCH: "1700000000" },
      });
      expect(r.code, r.stderr).toBe(0);
      const s = sh(
        `${q(process.execPath)} ${q(join(repoRoot, "dist/src/cli/main.js"))} cat ${q(join(o, "salt-dev-1.0.0.iso"))} boot/core.gz etc/shadow`,
      ).toString();
      return /^tc:\$6\$([^$]+)\$/m.exec(s)![1];
    };
    expect(await saltOf("one-password", "salt-a")).toBe(await saltOf("another-password", "salt-b"));
  }, 120_000);
});
