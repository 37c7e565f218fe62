// `mkbundle bundle`, Razor's form and `mkbundle plan` on the fixture mirror (plus a fake
// openssh.tcz and an extension hiding an sshd, made with mksquashfs).
import { createHash } from "node:crypto";
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { BundleJson } from "../../src/bundle/bundle.js";
import type { Lock } from "../../src/lock/lock-file.js";
import { mkbundleAsync, mkbundleIn } from "../helpers/cli.js";
import { fixturesDir, repoRoot } from "../helpers/paths.js";
import { q, sh } from "../helpers/run.js";
import { tempDir } from "../helpers/tmp.js";

const { dir, write } = tempDir("mkbundle-bundle-");
const mirror = join(dir, "mirror");
const wd = join(dir, "wd");
const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

function fakeExtension(name: string, files: Record<string, string>): void {
  const src = join(dir, "src", name);
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(join(src, p, ".."), { recursive: true });
    writeFileSync(join(src, p), text);
  }
  const t = join(mirror, "4.x/x86/tcz");
  sh(`mksquashfs ${q(src)} ${q(join(t, `${name}.tcz`))} -noappend -quiet -no-progress -b 4096 -no-xattrs -all-root`);
  sh(`cd ${q(t)} && md5sum ${name}.tcz > ${name}.tcz.md5.txt`);
}

/** Unpacks a bundle: its members, and the overlay extracted by GNU tar. */
function unpack(bundle: string, into: string): { json: BundleJson; overlayDir: string; members: string } {
  const members = join(into, "members");
  const overlayDir = join(into, "overlay");
  mkdirSync(members, { recursive: true });
  mkdirSync(overlayDir, { recursive: true });
  sh(`tar -C ${q(members)} -xzf ${q(bundle)}`);
  const json = JSON.parse(readFileSync(join(members, "bundle.json"), "utf8")) as BundleJson;
  sh(`tar -C ${q(overlayDir)} --numeric-owner -xpzf ${q(join(members, json.overlay))}`);
  return { json, overlayDir, members };
}

function manifest(name: string, body: string): string {
  return write(`${name}/${name}.yaml`, `name: ${name}\nbase:\n  iso: Core-4.4.iso\n${body}`);
}

const run = (args: string[], env: Record<string, string> = {}) =>
  mkbundleIn([...args, "--mirror", mirror, "--work-dir", wd], { env });

beforeAll(() => {
  cpSync(join(fixturesDir(), "tinycore"), mirror, { recursive: true, dereference: true });
  fakeExtension("openssh", { "usr/local/sbin/sshd": "#!/bin/sh\n", "usr/local/bin/ssh": "#!/bin/sh\n" });
  fakeExtension("remote-tools", { "usr/local/sbin/sshd": "#!/bin/sh\n" });
  write("files/motd", "Welcome\n");
});

describe("mkbundle bundle", () => {
  const body = `version: 1.2.3
extensions:
  builtin: [bash, dmidecode]
  mirror: [lzop]
files:
  - path: /etc/motd
    source: files/motd
  - path: /usr/local/sbin/sfdisk
    extract: { extension: util-linux, path: usr/local/sbin/sfdisk }
    mode: "0750"
    owner: "0:50"
  - path: /srv/www/index.html
    content: "hello\\n"
services:
  - name: web
    run: nc -l -p 80 -e /bin/cat
password:
  env: MK_TEST_PW
`;

  it("is byte-identical twice, names the overlay by its sha256, and rewrites nothing unchanged", async () => {
    const m = manifest("twice", body);
    write("twice/files/motd", "Welcome\n");
    const env = { SOURCE_DATE_EPOCH: "1700000000", MK_TEST_PW: "s3cret-pw" };
    const out = join(dir, "out-twice");
    const first = await run(["bundle", m, "--out", out, "--json"], env);
    expect(first.code, first.stderr).toBe(0);
    const a = JSON.parse(first.stdout) as {
      overlay: { path: string; sha256: string; written: boolean };
      bundle: { path: string; sha256: string; written: boolean };
    };
    expect(basename(a.overlay.path)).toBe(`overlay-${sha256(readFileSync(a.overlay.path))}.tar.gz`);
    expect(basename(a.bundle.path)).toBe("twice-bundle-dev.tar.gz");
    const again = JSON.parse((await run(["bundle", m, "--out", out, "--json"], env)).stdout) as typeof a;
    expect([again.overlay.sha256, again.bundle.sha256]).toEqual([a.overlay.sha256, a.bundle.sha256]);
    expect([again.overlay.written, again.bundle.written]).toEqual([false, false]);
    // Another epoch: other bytes, the same files.
    const other = join(dir, "out-epoch");
    const b = JSON.parse(
      (await run(["bundle", m, "--out", other, "--json"], { ...env, SOURCE_DATE_EPOCH: "1800000000" })).stdout,
    ) as typeof a;
    expect(b.overlay.sha256).not.toBe(a.overlay.sha256);
    const list = (p: string) => sh(`tar -tzf ${q(p)}`).toString();
    expect(list(b.overlay.path)).toBe(list(a.overlay.path));
    expect(sh(`TZ=UTC tar --full-time -tvzf ${q(b.overlay.path)}`).toString()).toContain("2027-01-15 08:00:00");
  });

  it("lays out builtin and mirror extensions, files, services and accounts from the base's own files", async () => {
    const m = manifest("layout", body);
    write("layout/files/motd", "Welcome\n");
    const out = join(dir, "out-layout");
    const r = await run(["bundle", m, "--out", out], { MK_TEST_PW: "s3cret-pw", SOURCE_DATE_EPOCH: "1700000000" });
    expect(r.code, r.stderr).toBe(0);
    const lock = parse(readFileSync(m.replace(/\.yaml$/, ".lock"), "utf8")) as Lock;
    const { json, overlayDir, members } = unpack(join(out, "layout-bundle-dev.tar.gz"), join(dir, "unpacked-layout"));
    // bundle.json: members by sha256, the lock, no host names or clock times.
    for (const [name, digest] of Object.entries(json.members))
      expect(sha256(readFileSync(join(members, name)))).toBe(digest);
    expect(json.lock).toEqual(lock);
    expect(json).toMatchObject({
      name: "layout",
      flavour: "dev",
      version: "1.2.3",
      epoch: 1700000000,
      base: "Core-4.4.iso",
    });

    const opt = join(overlayDir, "tmp/builtin/optional");
    expect(readFileSync(join(overlayDir, "tmp/builtin/onboot.lst"), "utf8")).toBe("bash.tcz\ndmidecode.tcz\n");
    const builtin = lock.extensions
      .filter((e) => e.role === "builtin")
      .map((e) => e.name)
      .sort();
    expect(
      sh(`ls ${q(opt)}`)
        .toString()
        .trim()
        .split("\n")
        .filter((f) => f.endsWith(".tcz"))
        .map((f) => f.slice(0, -4))
        .sort(),
    ).toEqual(builtin);
    expect(sh(`cd ${q(opt)} && md5sum -c *.md5.txt`).toString()).toMatch(/bash\.tcz: OK/);
    expect(readFileSync(join(opt, "ncurses.tcz.dep"), "utf8")).toBe(
      readFileSync(join(fixturesDir(), "tinycore/4.x/x86/tcz/ncurses.tcz.dep"), "utf8"),
    );
    const mirrorDir = join(overlayDir, "tmp/tinycorelinux/4.x/x86/tcz");
    expect(
      sh(`LC_ALL=C ls ${q(mirrorDir)}`)
        .toString()
        .trim()
        .split("\n"),
    ).toEqual([
      "lzo2.tcz",
      "lzo2.tcz.list",
      "lzo2.tcz.md5.txt",
      "lzop.tcz",
      "lzop.tcz.dep",
      "lzop.tcz.list",
      "lzop.tcz.md5.txt",
    ]);
    expect(sh(`cd ${q(mirrorDir)} && md5sum -c *.md5.txt`).toString()).toMatch(/lzop\.tcz: OK/);

    expect(readFileSync(join(overlayDir, "etc/motd"), "utf8")).toBe("Welcome\n");
    const sfdisk = sh(`stat -c '%a %u:%g %s' ${q(join(overlayDir, "usr/local/sbin/sfdisk"))}`)
      .toString()
      .trim();
    expect(sfdisk).toBe(
      `750 0:50 ${sh(
        `unsquashfs -cat ${q(join(fixturesDir(), "tinycore/4.x/x86/tcz/util-linux.tcz"))} usr/local/sbin/sfdisk | wc -c`,
      )
        .toString()
        .trim()}`,
    );
    // Existing directories keep the base's mode and owner (tmp 1777, opt 2775 root:staff).
    expect(
      sh(`stat -c '%a %u:%g' ${q(join(overlayDir, "tmp"))} ${q(join(overlayDir, "opt"))}`)
        .toString()
        .trim()
        .split("\n"),
    ).toEqual(["1777 0:0", "2775 0:50"]);

    expect(readFileSync(join(overlayDir, "opt/mkbundle/services/web.run"), "utf8")).toBe(
      "#!/bin/sh\nnc -l -p 80 -e /bin/cat\n",
    );
    expect(readFileSync(join(overlayDir, "opt/mkbundle/services/web.sh"), "utf8")).toContain(
      "setsid $D/web.run < /dev/null >> /var/log/web.log 2>&1 &",
    );
    const bootlocal = readFileSync(join(overlayDir, "opt/bootlocal.sh"), "utf8");
    expect(bootlocal.startsWith("#!/bin/sh\n# put other system startup commands here\n")).toBe(true);
    expect(bootlocal).toContain("/opt/mkbundle/services/web.sh &\n");

    const shadow = readFileSync(join(overlayDir, "etc/shadow"), "utf8");
    expect(shadow).toMatch(/^root:\*:13525:0:99999:7:::$/m);
    const hash = /^tc:(\$6\$([^$]+)\$[^:]+):/m.exec(shadow)!;
    expect(
      sh(`openssl passwd -6 -salt ${q(hash[2]!)} s3cret-pw`)
        .toString()
        .trim(),
    ).toBe(hash[1]);
    expect(readFileSync(join(overlayDir, "etc/inittab"), "utf8")).toMatch(/^tty1::respawn:\/sbin\/getty 38400 tty1$/m);
    expect(readFileSync(join(overlayDir, "etc/inittab"), "utf8")).not.toContain("autologin");
    // No clear-text password anywhere.
    expect(
      sh(
        `grep -r -a -l s3cret-pw ${q(join(dir, "unpacked-layout"))} ${q(out)} ${q(m.replace(/\.yaml$/, ".lock"))} || true`,
      ).toString(),
    ).toBe("");
  });

  it("salts randomly without SOURCE_DATE_EPOCH", async () => {
    const m = manifest("salt", "password:\n  env: MK_TEST_PW\n");
    const shadows: string[] = [];
    for (const i of [1, 2]) {
      const out = join(dir, `out-salt-${i}`);
      expect((await run(["bundle", m, "--out", out], { MK_TEST_PW: "pw" })).code).toBe(0);
      shadows.push(
        readFileSync(
          join(unpack(join(out, "salt-bundle-dev.tar.gz"), join(dir, `unpacked-salt-${i}`)).overlayDir, "etc/shadow"),
          "utf8",
        ),
      );
    }
    expect(shadows[0]).not.toBe(shadows[1]);
  });

  it("debug keeps console autologin", async () => {
    const m = manifest("debugimg", "flavour: debug\npassword:\n  env: MK_TEST_PW\n");
    const out = join(dir, "out-debug");
    expect((await run(["bundle", m, "--out", out], { MK_TEST_PW: "pw" })).code).toBe(0);
    const { overlayDir } = unpack(join(out, "debugimg-bundle-debug.tar.gz"), join(dir, "unpacked-debug"));
    expect(readFileSync(join(overlayDir, "etc/inittab"), "utf8")).toMatch(
      /^tty1::respawn:\/sbin\/getty -nl \/sbin\/autologin 38400 tty1$/m,
    );
  });

  it("prod drops openssh, locks tc, has no autologin, and warns about a password", async () => {
    const m = manifest(
      "prodimg",
      "flavour: prod\nextensions:\n  builtin: [openssh, bash]\npassword:\n  env: MK_TEST_PW\n",
    );
    const out = join(dir, "out-prod");
    const r = await run(["bundle", m, "--out", out], { MK_TEST_PW: "pw" });
    expect(r.code, r.stderr).toBe(0);
    // Said once, where the manifest says it.
    expect(r.stderr.match(/is ignored for flavour prod|cannot be set for a prod image/g)).toHaveLength(1);
    expect(r.stderr).toMatch(/prodimg\.yaml:\d+:\d+: warning: password: is ignored for flavour prod/);
    const fromEnv = await run(["bundle", manifest("prodenv", "flavour: prod\n"), "--out", join(dir, "out-prod-env")], {
      MK_BUNDLE_TC_PASSWD: "pw",
    });
    expect(fromEnv.stderr).toContain("a tc password cannot be set for a prod image; MK_BUNDLE_TC_PASSWD is ignored");
    const { overlayDir } = unpack(join(out, "prodimg-bundle-prod.tar.gz"), join(dir, "unpacked-prod"));
    expect(readFileSync(join(overlayDir, "tmp/builtin/onboot.lst"), "utf8")).toBe("bash.tcz\n");
    expect(sh(`ls ${q(join(overlayDir, "tmp/builtin/optional"))}`).toString()).not.toContain("openssh");
    expect(readFileSync(join(overlayDir, "etc/shadow"), "utf8")).toMatch(/^tc:\*:/m);
    expect(readFileSync(join(overlayDir, "etc/inittab"), "utf8")).not.toContain("autologin");
  });

  it("the prod audit fails on an sshd from any extension or file, and names it", async () => {
    const m = manifest(
      "audit",
      "flavour: prod\nextensions:\n  builtin: [remote-tools]\nfiles:\n  - path: /usr/sbin/sshd\n    content: x\n",
    );
    const r = await run(["bundle", m, "--out", join(dir, "out-audit")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("audit.yaml: prod audit: usr/sbin/sshd is a remote-login daemon");
    expect(r.stderr).toContain(
      "prod audit: builtin extension remote-tools.tcz holds usr/local/sbin/sshd, a remote-login daemon (required by extensions.builtin)",
    );
  });

  it("the last time every output can hold (2106-02-07, 2^32 - 1) builds; one second later is refused up front", async () => {
    const m = manifest("late", "version: 1.0.0\n");
    const out = join(dir, "late-out");
    const last = { SOURCE_DATE_EPOCH: String(2 ** 32 - 1) };
    const r = await run(["build", m, "--out", out], last);
    expect(r.code, r.stderr).toBe(0);
    const overlay = readdirSync(out).find((f) => f.startsWith("overlay-"))!;
    expect(sh(`tar -tvzf ${q(join(out, overlay))} --full-time`).toString()).toMatch(
      /2106-02-07 06:28:15 etc\/shadow\n/,
    );
    const iso = readdirSync(out).find((f) => f.endsWith(".iso"))!;
    expect(sh(`xorriso -indev ${q(join(out, iso))} -pvd_info 2>/dev/null`).toString()).toContain(
      "Creation Time: 2106020706281500",
    );
    for (const cmd of ["validate", "build"]) {
      const late = await run([cmd, m, "--out", out], { SOURCE_DATE_EPOCH: String(2 ** 32) });
      expect(late.code, `${cmd}: ${late.stderr}`).toBe(2);
      expect(late.stderr).toContain("SOURCE_DATE_EPOCH='4294967296' is not a time mkbundle can use");
    }
  });

  it("names an unset password variable and a file missing from an extension", async () => {
    const m = manifest(
      "broken",
      "password:\n  env: MK_UNSET_PW\nfiles:\n  - path: /x\n    extract: { extension: util-linux, path: usr/local/sbin/nothere }\n",
    );
    const r = await run(["bundle", m, "--out", join(dir, "out-broken")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("password.env names MK_UNSET_PW, which is not set");
    expect(r.stderr).toContain("files[0]: util-linux.tcz has no file usr/local/sbin/nothere");
  });
});

describe("mkbundle init", () => {
  it("refuses a service whose program is not in the image, naming it and its line; --allow-missing-commands builds", async () => {
    const m = manifest(
      "missing-cmd",
      `extensions:
  builtin: [bash]
services:
  - name: ok
    run: |
      echo starting
      bash --version
      /usr/local/bin/bash -c 'busybox ls /'
  - name: web
    run: sh -c 'httpd -f -p 80 -h /srv/www'
  - name: tool
    run: /usr/local/bin/nothere --daemon
  - name: inner
    run: echo "$(ifconfg eth0) \`hostnme\`"
`,
    );
    const r = await run(["bundle", m]);
    expect(r.code, r.stderr).toBe(2);
    // Inside $(...) and backticks too, with the close name the image has.
    expect(r.stderr).toContain(
      `services[3].run: service 'inner' runs 'ifconfg', which is not in the image (did you mean 'ifconfig'? not on the boot PATH`,
    );
    expect(r.stderr).toContain(
      `services[3].run: service 'inner' runs 'hostnme', which is not in the image (did you mean 'hostname'? not on the boot PATH`,
    );
    expect(r.stderr).toContain(`${m}:13:10: services[1].run: service 'web' runs 'httpd', which is not in the image`);
    expect(r.stderr).toContain(
      `${m}:15:10: services[2].run: service 'tool' runs '/usr/local/bin/nothere', which is not in the image`,
    );
    expect(r.stderr).not.toContain("service 'ok'");
    expect(r.stderr).not.toMatch(/\bat .*\.js:\d+/);
    expect((await run(["bundle", m, "--allow-missing-commands"])).code).toBe(0);
  });

  it("writes a starter manifest that builds", async () => {
    const target = join(dir, "starter");
    expect((await mkbundleIn(["init", target])).code).toBe(0);
    const out = join(dir, "out-starter");
    const r = await run(["build", join(target, "mkbundle.yaml"), "--out", out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(join(out, "starter-dev-0.1.0.iso"));
    expect((await mkbundleIn(["cat", r.stdout.trim(), "boot/core.gz", "etc/motd"])).stdout).toBe(
      "Welcome to starter.\n",
    );
  });

  it("writes a CorePure64 starter with --arch x86_64 that builds, its builtin left for Tiny Core to load", async () => {
    const target = join(dir, "starter64");
    expect((await mkbundleIn(["init", target, "--arch", "x86_64", "--release", "10.x"])).code).toBe(0);
    const text = readFileSync(join(target, "mkbundle.yaml"), "utf8");
    expect(text).toMatch(/^ {2}arch: x86_64 /m);
    expect(text).toMatch(/^ {2}iso: CorePure64-current\.iso /m);
    const out = join(dir, "out-starter64");
    const r = await run(["build", join(target, "mkbundle.yaml"), "--out", out]);
    expect(r.code, r.stderr).toBe(0);
    const iso = r.stdout.trim();
    expect((await mkbundleIn(["cat", iso, "boot/corepure64.gz", "tmp/builtin/onboot.lst"])).stdout).toBe(
      "dosfstools.tcz\n",
    );
    expect((await mkbundleIn(["init", join(dir, "bad"), "--arch", "arm64"])).stderr).toMatch(
      /--arch 'arm64' is not an architecture mkbundle builds \(x86 or x86_64\)/,
    );
  });
});

describe("a warm cache", () => {
  it("plan and lock --update copy nothing the cache has; a file changed on the mirror is fetched again", async () => {
    const m = write(
      "warm/warm.yaml",
      "name: warm\nflavour: dev\nbase: { iso: Core-4.4.iso }\nextensions:\n  builtin: [bash]\n",
    );
    const own = join(dir, "wd-warm");
    const go = (args: string[]) => mkbundleIn([...args, "--mirror", mirror, "--work-dir", own]);
    const first = await go(["lock", m]);
    expect(first.code, first.stderr).toBe(0);
    const files = /(\d+) files, \1 downloaded/.exec(first.stderr)?.[1];
    expect(Number(files)).toBeGreaterThan(3);
    for (const args of [
      ["plan", m],
      ["lock", "--update", m],
    ]) {
      const again = await go(args);
      expect(again.code, again.stderr).toBe(0);
      expect(again.stderr).toContain(`${files} files, 0 downloaded (0 B), ${files} from the cache`);
    }
    const dep = join(mirror, "4.x/x86/tcz/bash.tcz.dep");
    const later = new Date(Date.now() + 5000);
    utimesSync(dep, later, later);
    const changed = await go(["plan", m]);
    expect(changed.stderr).toContain(`${files} files, 1 downloaded`);
  });
});

describe("extensions.local with a prebuilt .tcz", () => {
  it("is pinned by its sha256, its .dep beside it resolved from the mirror; other bytes are refused at its line", async () => {
    const src = join(dir, "prebuilt-src");
    mkdirSync(join(src, "usr/local/bin"), { recursive: true });
    writeFileSync(join(src, "usr/local/bin/agent"), "#!/bin/sh\necho agent\n");
    const made = await mkbundleIn(["tcz", src, "--name", "agent", "--dep", "bash", "--out", join(dir, "pre/vendor")]);
    expect(made.code, made.stderr).toBe(0);
    const sha = createHash("sha256")
      .update(readFileSync(join(dir, "pre/vendor/agent.tcz")))
      .digest("hex");
    const body = (pin: string) =>
      `name: pre\nversion: 0.1.0\nflavour: dev\nbase: { iso: Core-4.4.iso }\nextensions:\n  local:\n    - file: vendor/agent.tcz\n      sha256: "${pin}"\n`;
    const m = write("pre/pre.yaml", body(sha));
    const r = await run(["bundle", m, "--out", join(dir, "out-pre")]);
    expect(r.code, r.stderr).toBe(0);
    const lock = readFileSync(join(dir, "pre/pre.lock"), "utf8");
    expect(lock).toMatch(
      new RegExp(`name: agent\\n\\s+role: builtin[\\s\\S]*sha256: ${sha}[\\s\\S]*local: vendor/agent.tcz`),
    );
    expect(lock).toMatch(/name: bash\n\s+role: builtin\n\s+requiredBy: \[agent\]/);
    writeFileSync(m, body("0".repeat(64)));
    const bad = await run(["bundle", m, "--out", join(dir, "out-pre")]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(
      `${m}:7:7: extensions.local: sha256 mismatch for vendor/agent.tcz: expected ${"0".repeat(64)}, got ${sha}`,
    );
    // Razor's flow takes them as Hanlon did: -l FILE, one .tcz a line, relative to the list.
    const b = write("pre/b.lst", "bash\n");
    const mlst = write("pre/m.lst", "procps\n");
    const l = write("pre/local.lst", "# ours\nvendor/agent.tcz\n");
    const razorOut = join(dir, "out-pre-razor");
    const razor = await mkbundleAsync(
      ["-b", b, "-m", mlst, "-l", l, "--mirror", mirror, "--work-dir", wd, "--out", razorOut],
      {
        cwd: dir,
      },
    );
    expect(razor.code, razor.stderr).toBe(0);
    const json = (await mkbundleIn(["cat", join(razorOut, "razor-microkernel-bundle-dev.tar.gz"), "bundle.json"]))
      .stdout;
    const locked = (JSON.parse(json) as { lock: { extensions: { name: string; sha256: string; local?: string }[] } })
      .lock.extensions;
    expect(locked.find((e) => e.name === "agent")).toMatchObject({ sha256: sha, local: "pre/vendor/agent.tcz" });
    const missing = write("pre/missing.lst", "vendor/nope.tcz\n");
    const none = await mkbundleAsync(["-b", b, "-m", mlst, "-l", missing, "-n"], { cwd: dir });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain(`${missing}:1:1: vendor/nope.tcz does not exist`);
  });
});

describe("--out housekeeping", () => {
  it("the summary names every file written; clean lists the replaced overlay, --yes removes it and its SHA256SUMS line", async () => {
    const out = join(dir, "out-clean");
    const body = (motd: string) =>
      `name: tidy\nversion: 0.1.0\nflavour: dev\nbase: { iso: Core-4.4.iso }\nfiles:\n  - path: /etc/motd\n    content: ${motd}\n`;
    const m = write("tidy/tidy.yaml", body("one"));
    const first = await run(["build", m, "--out", out]);
    expect(first.code, first.stderr).toBe(0);
    for (const line of [
      /^overlay: \S+\/overlay-[0-9a-f]{64}\.tar\.gz \(/m,
      /^pxe: {4}\S+\/pxe\/tidy-dev-0\.1\.0\/vmlinuz \(/m,
      /^pxe: {4}\S+\/pxe\/tidy-dev-0\.1\.0\/core\.gz \(/m,
      /^pxe: {4}\S+\/pxe\/tidy-dev-0\.1\.0\/boot\.ipxe \(/m,
      /^sums: {3}\S+\/SHA256SUMS$/m,
    ])
      expect(first.stderr).toMatch(line);
    const oldOverlay = readdirSync(out).find((f) => f.startsWith("overlay-"))!;
    writeFileSync(m, body("two"));
    expect((await run(["build", m, "--out", out])).code).toBe(0);
    const dry = await run(["clean", "--out", out]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(
      dry.stdout
        .trim()
        .split("\n")
        .map((l) => l.trim().split(/\s+/).pop()),
    ).toEqual([oldOverlay]);
    expect(dry.stderr).toContain("would remove 1 stale file");
    expect(readdirSync(out)).toContain(oldOverlay);
    const sumsBefore = readFileSync(join(out, "SHA256SUMS"), "utf8");
    const yes = await run(["clean", "--out", out, "--yes"]);
    expect(yes.code, yes.stderr).toBe(0);
    expect(readdirSync(out)).not.toContain(oldOverlay);
    expect(readdirSync(out).filter((f) => f.startsWith("overlay-"))).toHaveLength(1);
    expect(readdirSync(out)).toContain("tidy-dev-0.1.0.iso");
    const sums = readFileSync(join(out, "SHA256SUMS"), "utf8");
    expect(sums).not.toContain(oldOverlay);
    expect(sums.split("\n").filter((l) => !l.includes(oldOverlay))).toEqual(
      sumsBefore.split("\n").filter((l) => !l.includes(oldOverlay)),
    );
    expect((await run(["clean", "--out", out])).stderr).toContain("would remove 0 stale files");
  });
});

describe("a base the mirror does not have", () => {
  it("the default x86_64 starter (16.x) names the series the mirror has and the nearest; a wrong ISO name lists the ISOs", async () => {
    const target = join(dir, "starter-16");
    expect((await mkbundleIn(["init", target, "--arch", "x86_64"])).code).toBe(0);
    const r = await run(["lock", join(target, "mkbundle.yaml")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("16.x/x86_64/release/CorePure64-current.iso");
    expect(r.stderr).toContain("(the mirror has no 16.x for x86_64; it has 10.x: try base.release: 10.x)");
    const wrong = join(target, "wrong-iso.yaml");
    writeFileSync(
      wrong,
      readFileSync(join(target, "mkbundle.yaml"), "utf8")
        .replace(/release: 16\.x/, "release: 10.x")
        .replace(/iso: CorePure64-current\.iso/, "iso: CorePure64-10.0.iso"),
    );
    const w = await run(["lock", wrong]);
    expect(w.code).toBe(1);
    expect(w.stderr).toContain(
      "(10.x/x86_64/release/ has CorePure64-10.1.iso, CorePure64-current.iso: set base.iso to one of them)",
    );
  });

  it("the 9.x starter's comment names a 9.x ISO", async () => {
    const target = join(dir, "starter-9");
    expect((await mkbundleIn(["init", target, "--release", "9.x"])).code).toBe(0);
    expect(readFileSync(join(target, "mkbundle.yaml"), "utf8")).toMatch(/# pin a file \(Core-9\.0\.iso\)/);
  });
});

describe("Razor's form", () => {
  it("list mistakes: in line order, a .deb named for what it is, no missing name suggested, the mirror named once, -p said", async () => {
    const b = write("lists/b.lst", "bash\nlshw.deb\nopenssh\nbsh\nzzz-missing\nzzz-missin\n");
    const mlst = write("lists/m.lst", "procps\nncurse\n");
    const r = await run(["-b", b, "-m", mlst, "-p", "--out", join(dir, "out-razor-lists")]);
    expect(r.code).toBe(1);
    const lines = r.stderr.split("\n").filter((l) => l.includes("missing extension"));
    expect(lines.map((l) => l.split(": missing")[0])).toEqual([
      `${b}:2:1`,
      `${b}:4:1`,
      `${b}:5:1`,
      `${b}:6:1`,
      `${mlst}:2:1`,
    ]);
    expect(lines[0]).toContain("(a .deb is a Debian package, not a Tiny Core extension");
    expect(lines[1]).toContain("(did you mean 'bash'?)");
    // zzz-missing and zzz-missin are both missing: neither is offered for the other.
    expect(lines[2]).not.toContain("did you mean");
    expect(lines[3]).not.toContain("did you mean");
    expect(r.stderr.match(/not found in /g)).toHaveLength(1);
    expect(r.stderr).toMatch(/5 extensions were not found in file:\/\/\S+\/4\.x\/x86\/tcz/);
    expect(r.stderr.match(/-p: openssh\.tcz left out of the builtin list/g)).toHaveLength(1);
  });

  it("mkbundle -b extensions.lst -m mirror.lst -p writes razor-microkernel-bundle-prod.tar.gz", async () => {
    const out = join(dir, "out-razor");
    const r = await mkbundleIn([
      "-b",
      join(repoRoot, "extensions.lst"),
      "-m",
      join(repoRoot, "mirror.lst"),
      "-p",
      "--mirror",
      join(fixturesDir(), "tinycore"),
      "--work-dir",
      wd,
      "--out",
      out,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(join(out, "razor-microkernel-bundle-prod.tar.gz"));
    const { json, overlayDir } = unpack(join(out, "razor-microkernel-bundle-prod.tar.gz"), join(dir, "unpacked-razor"));
    expect(json.flavour).toBe("prod");
    expect(readFileSync(join(overlayDir, "tmp/builtin/onboot.lst"), "utf8")).toBe(
      "bash.tcz\ndmidecode.tcz\nlshw.tcz\nusb-utils.tcz\nlibssl-0.9.8.tcz\n",
    );
  });
});

describe("mkbundle plan", () => {
  it("reports lzop and its new dependency lzo2 with sizes after lzop joins builtin", async () => {
    const m = manifest("planned", "extensions:\n  builtin: [bash]\n");
    expect((await run(["lock", m])).code).toBe(0);
    writeFileSync(m, readFileSync(m, "utf8").replace("[bash]", "[bash, lzop]"));
    const r = await run(["plan", m, "--out", join(dir, "out-none")]);
    expect(r.code, r.stderr).toBe(0);
    const size = (n: string) =>
      `${(readFileSync(join(fixturesDir(), `tinycore/4.x/x86/tcz/${n}.tcz`)).length / 1024).toFixed(1)} KiB`;
    expect(r.stdout).toContain(`+ lzop.tcz (builtin) +${size("lzop")}`);
    expect(r.stdout).toContain(`+ lzo2.tcz (builtin) +${size("lzo2")} (needed by lzop)`);
    const json = JSON.parse((await run(["plan", m, "--json", "--out", join(dir, "out-none")])).stdout) as {
      extensions: { kind: string; name: string; after: number }[];
      size: { delta: number };
    };
    expect(json.extensions.map((c) => [c.kind, c.name])).toEqual([
      ["added", "lzo2.tcz (builtin)"],
      ["added", "lzop.tcz (builtin)"],
    ]);
    expect(json.size.delta).toBe(json.extensions.reduce((n, c) => n + c.after, 0));
  });

  it("compares overlay files and flavour against a bundle", async () => {
    const m = manifest("against", "extensions:\n  builtin: [bash]\n");
    const out = join(dir, "out-against");
    expect((await run(["bundle", m, "--out", out])).code).toBe(0);
    writeFileSync(m, readFileSync(m, "utf8") + "flavour: debug\nfiles:\n  - path: /etc/motd\n    content: hi\n");
    const r = await run(["plan", m, "--against", join(out, "against-bundle-dev.tar.gz")]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("flavour: dev -> debug");
    expect(r.stdout).toContain("+ etc/motd +2 B");
    expect(r.stdout).toContain("~ etc/inittab");
  });

  it("without --against, compares with the manifest's last bundle in --out: flavour and boot line changes show", async () => {
    const m = manifest("replan", "flavour: prod\nextensions:\n  builtin: [bash]\nboot:\n  append: [console=ttyS0]\n");
    const out = join(dir, "out-replan");
    expect((await run(["bundle", m, "--out", out])).code).toBe(0);
    writeFileSync(
      m,
      readFileSync(m, "utf8")
        .replace("flavour: prod", "flavour: debug")
        .replace("[console=ttyS0]", "[console=ttyS0, quiet]\n  timeout: 3"),
    );
    const r = await run(["plan", m, "--out", out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`and ${join(out, "replan-bundle-prod.tar.gz")})`);
    expect(r.stdout).toContain("flavour: prod -> debug");
    expect(r.stdout).toContain("~ boot.append (console=ttyS0 -> console=ttyS0 quiet)");
    expect(r.stdout).toContain("~ boot.timeout ((the base's) -> 3 s)");
    expect(r.stdout).toContain("~ etc/inittab");
  });
});

describe("an unchanged bundle is decided from digests and stamps", () => {
  it("does no work when nothing changed (not even the downloads are needed); a changed source, password or bundle is rebuilt", async () => {
    const m = manifest("fast", "files:\n  - path: /etc/motd\n    source: files/motd\npassword:\n  env: MK_TEST_PW\n");
    const motd = write("fast/files/motd", "one\n");
    const out = join(dir, "out-fast");
    const wdFast = join(dir, "wd-fast");
    const go = async (pw: string, ...extra: string[]) => {
      const r = await mkbundleIn(
        ["bundle", m, "--mirror", mirror, "--work-dir", wdFast, "--out", out, "--json", ...extra],
        {
          env: { MK_TEST_PW: pw },
        },
      );
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout) as {
        bundle: { written: boolean; sha256: string };
        overlay: { written: boolean };
        why: string;
      };
    };
    const first = await go("pw1");
    expect([first.bundle.written, first.why]).toEqual([true, "first build"]);
    // The downloads are gone and --offline: an unchanged bundle needs none of them.
    rmSync(join(wdFast, "cache"), { recursive: true });
    const same = await go("pw1", "--offline");
    expect([same.bundle.written, same.overlay.written, same.bundle.sha256, same.why]).toEqual([
      false,
      false,
      first.bundle.sha256,
      "same inputs",
    ]);
    // Touched, same bytes: re-hashed, still unchanged.
    utimesSync(motd, new Date(), new Date(Date.now() + 5000));
    expect((await go("pw1", "--offline")).bundle.written).toBe(false);
    // New bytes in a source, a new password, a damaged bundle: each is rebuilt.
    writeFileSync(motd, "two\n");
    expect(await go("pw1")).toMatchObject({ bundle: { written: true }, why: "files/motd changed" });
    // The stage cache names each changed input: tc's shadow field is one (hashed once, up front).
    expect(await go("pw2")).toMatchObject({ bundle: { written: true }, why: "tc's password changed" });
    writeFileSync(m, readFileSync(m, "utf8") + "boot:\n  timeout: 2\n");
    expect((await go("pw2")).why).toBe("the manifest changed");
    const bundlePath = join(out, "fast-bundle-dev.tar.gz");
    const b = readFileSync(bundlePath);
    b[b.length - 100] = b[b.length - 100]! ^ 0xff;
    writeFileSync(bundlePath, b);
    const repaired = await go("pw2");
    expect(repaired.bundle.written).toBe(true);
    expect(sha256(readFileSync(bundlePath))).toBe(repaired.bundle.sha256);
  });
});
