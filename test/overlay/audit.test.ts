// The prod audit cannot be walked around: each way in (a daemon under another name, a
// password in /etc/passwd, an autologin getty, a builtin writing through another's
// symlink, sshd in the image's mirror, a bundle relabelled prod) fails with exit 1, naming
// the manifest (or bundle) and the rule. Extensions are made with mksquashfs.
import { cpSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { mkbundleIn } from "../helpers/cli.js";
import { fixturesDir } from "../helpers/paths.js";
import { q, sh } from "../helpers/run.js";
import { tempDir } from "../helpers/tmp.js";

const { dir, write } = tempDir("mkbundle-audit-");
const mirror = join(dir, "mirror");
const wd = join(dir, "wd");

/** An extension from files (text) and symlinks (target), added to the mirror. */
function fakeExtension(name: string, files: Record<string, string>, links: Record<string, string> = {}): void {
  const src = join(dir, "src", name);
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(join(src, p, ".."), { recursive: true });
    writeFileSync(join(src, p), text);
  }
  for (const [p, target] of Object.entries(links)) {
    mkdirSync(join(src, p, ".."), { recursive: true });
    symlinkSync(target, join(src, p));
  }
  const t = join(mirror, "4.x/x86/tcz");
  sh(`mksquashfs ${q(src)} ${q(join(t, `${name}.tcz`))} -noappend -quiet -no-progress -no-xattrs -all-root`);
  sh(`cd ${q(t)} && md5sum ${name}.tcz > ${name}.tcz.md5.txt`);
}

const manifest = (name: string, body: string) =>
  write(`${name}/${name}.yaml`, `name: ${name}\nversion: 1.0.0\nflavour: prod\nbase:\n  iso: Core-4.4.iso\n${body}`);

const bundle = (m: string, out: string) =>
  mkbundleIn(["bundle", m, "--mirror", mirror, "--work-dir", wd, "--out", out]);

beforeAll(() => {
  cpSync(join(fixturesDir(), "tinycore"), mirror, { recursive: true, dereference: true });
  fakeExtension("dropbear", { "usr/local/sbin/dropbear": "#!/bin/sh\n" });
  fakeExtension("sshd-real", { "usr/local/sbin/sshd.real": "#!/bin/sh\n" });
  fakeExtension("openssh", { "usr/local/sbin/sshd": "#!/bin/sh\n", "usr/local/bin/ssh": "#!/bin/sh\n" });
  fakeExtension("plant-link", {}, { "usr/local/share/foo": "/etc" });
  fakeExtension("through-link", { "usr/local/share/foo/shadow": "root:$1$evil$x:1:0:99999:7:::\n" });
});

describe("the prod audit cannot be walked around", () => {
  it.each([
    {
      name: "a dropbear builtin",
      body: "extensions:\n  builtin: [dropbear]\n",
      says: /prod audit: builtin extension dropbear\.tcz holds usr\/local\/sbin\/dropbear, a remote-login daemon/,
    },
    {
      name: "an sshd.real builtin",
      body: "extensions:\n  builtin: [sshd-real]\n",
      says: /prod audit: builtin extension sshd-real\.tcz holds usr\/local\/sbin\/sshd\.real, a remote-login daemon/,
    },
    {
      name: "openssh in the image's mirror",
      body: "extensions:\n  mirror: [openssh]\n",
      says: /prod audit: mirror extension openssh\.tcz holds usr\/local\/sbin\/sshd, a remote-login daemon/,
    },
    {
      name: "a telnetd from files:",
      body: "files:\n  - path: /usr/sbin/telnetd\n    content: x\n    mode: '0755'\n",
      says: /prod audit: usr\/sbin\/telnetd is a remote-login daemon/,
    },
    {
      name: "an empty password in /etc/passwd",
      body: "files:\n  - path: /etc/passwd\n    content: |\n      root:x:0:0:root:/root:/bin/sh\n      tc::1001:50:Linux User,,,:/home/tc:/bin/sh\n",
      says: /prod audit: user tc can log in with an empty password \(\/etc\/passwd\)/,
    },
    {
      name: "a crypt hash in /etc/passwd",
      body: "files:\n  - path: /etc/passwd\n    content: |\n      root:$6$salt$hash:0:0:root:/root:/bin/sh\n",
      says: /prod audit: user root can log in with a password \(\/etc\/passwd\)/,
    },
    {
      name: "an autologin getty in /etc/inittab",
      body:
        "files:\n  - path: /etc/inittab\n    content: |\n      ::sysinit:/etc/init.d/rcS\n" +
        "      tty1::respawn:/sbin/getty -n -l /usr/bin/autologin 38400 tty1\n",
      says: /prod audit: \/etc\/inittab tty1: '\/sbin\/getty -n -l \/usr\/bin\/autologin 38400 tty1' logs in without a password/,
    },
    {
      name: "a shell on a terminal in /etc/inittab",
      body: "files:\n  - path: /etc/inittab\n    content: |\n      tty1::respawn:-/bin/sh\n",
      says: /prod audit: \/etc\/inittab tty1: '-\/bin\/sh' logs in without a password/,
    },
    {
      name: "a builtin writing through another builtin's symlink",
      body: "extensions:\n  builtin: [plant-link, through-link]\n",
      says: /prod audit: builtin through-link\.tcz puts usr\/local\/share\/foo\/shadow under usr\/local\/share\/foo, a symlink from builtin plant-link\.tcz/,
    },
  ])("$name", async ({ name, body, says }) => {
    const m = manifest(name.replace(/\W+/g, "-"), body);
    const r = await bundle(m, join(dir, "out", name.replace(/\W+/g, "-")));
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`${name.replace(/\W+/g, "-")}\\.yaml: ${says.source}`));
    expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
  });

  it("a builtin never writes through another's symlink, whatever the flavour: unpacking refuses, naming both", async () => {
    // Core 4.4's kernel has no modules: builtins are unpacked into the initrd by rebuild-iso.
    const m = write(
      "dev-link/dev-link.yaml",
      "name: dev-link\nversion: 1.0.0\nflavour: dev\nbase:\n  iso: Core-4.4.iso\nextensions:\n  builtin: [plant-link, through-link]\n",
    );
    const out = join(dir, "out", "dev-link");
    const r = await mkbundleIn(["build", m, "--mirror", mirror, "--work-dir", wd, "--out", out]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(
      /dev-link\.yaml: builtin through-link\.tcz puts usr\/local\/share\/foo\/shadow under usr\/local\/share\/foo, a symlink from builtin plant-link\.tcz: unpacking it would write wherever the link points/,
    );
  });

  it("rebuild-iso audits a bundle again: a dev bundle with sshd relabelled prod is refused", async () => {
    const m = write(
      "relabel/relabel.yaml",
      "name: relabel\nversion: 1.0.0\nflavour: dev\nbase:\n  iso: Core-4.4.iso\nextensions:\n  builtin: [openssh]\n",
    );
    const out = join(dir, "out", "relabel");
    expect((await bundle(m, out)).code).toBe(0);
    // Unpack, change the flavour in bundle.json (schema-valid), pack again with GNU tar.
    const members = join(dir, "relabel-members");
    mkdirSync(members);
    sh(`tar -C ${q(members)} -xzf ${q(join(out, "relabel-bundle-dev.tar.gz"))}`);
    const json = JSON.parse(readFileSync(join(members, "bundle.json"), "utf8")) as {
      flavour: string;
      manifest: { flavour: string };
    };
    json.flavour = "prod";
    json.manifest.flavour = "prod";
    writeFileSync(join(members, "bundle.json"), JSON.stringify(json));
    const relabelled = join(dir, "relabelled.tar.gz");
    sh(`tar -C ${q(members)} -czf ${q(relabelled)} .`);
    const r = await mkbundleIn([
      "rebuild-iso",
      "1.0.0",
      "--bundle",
      relabelled,
      "--out",
      join(dir, "out", "relabelled"),
      "--work-dir",
      wd,
    ]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(
      /prod audit: builtin extension openssh\.tcz holds usr\/local\/sbin\/sshd, a remote-login daemon/,
    );
  });
});

describe("the prod audit reads the image as it boots, links and all", () => {
  /**
   * Core 4.4 with its initrd edited as an attacker would: /etc/passwd a symlink to a file with
   * an empty root password, a shell in inittab under two actions the old pattern missed, an
   * unlisted openssh.tcz that the base's own onboot.lst loads, and an in.telnetd.
   */
  const evilBase = (): string => {
    const work = join(dir, "evil-base");
    const root = join(work, "root");
    mkdirSync(root, { recursive: true });
    const release = join(mirror, "4.x/x86/release");
    sh(
      `cd ${q(work)} && xorriso -osirrox on -indev ${q(join(release, "Core-4.4.iso"))} -extract /boot/core.gz core.gz 2>/dev/null`,
    );
    sh(`cd ${q(root)} && zcat ../core.gz | cpio -idm --quiet 2>/dev/null`);
    mkdirSync(join(root, "usr/share/evil"), { recursive: true });
    writeFileSync(join(root, "usr/share/evil/passwd"), "root::0:0:root:/root:/bin/sh\n");
    sh(`rm -f ${q(join(root, "etc/passwd"))} && ln -s ../usr/share/evil/passwd ${q(join(root, "etc/passwd"))}`);
    writeFileSync(
      join(root, "etc/inittab"),
      "::sysinit:/etc/init.d/rcS\n::wait:/bin/sh\ntty3::respawn:/bin/login -f root\n::ctrlaltdel:/sbin/reboot\n",
    );
    mkdirSync(join(root, "tmp/builtin/optional"), { recursive: true });
    cpSync(join(mirror, "4.x/x86/tcz/openssh.tcz"), join(root, "tmp/builtin/optional/openssh.tcz"));
    writeFileSync(join(root, "tmp/builtin/onboot.lst"), "openssh.tcz\nghost.tcz\n");
    writeFileSync(join(root, "usr/sbin/in.telnetd"), "#!/bin/sh\n");
    sh(`cd ${q(root)} && find . | LC_ALL=C sort | cpio -o -H newc --quiet | gzip -9 > ../evil-core.gz`);
    sh(
      `xorriso -indev ${q(join(release, "Core-4.4.iso"))} -outdev ${q(join(release, "evil-base.iso"))} ` +
        `-map ${q(join(work, "evil-core.gz"))} /boot/core.gz -boot_image any replay 2>/dev/null`,
    );
    return "evil-base.iso";
  };

  it("finds every way in that the parts did not show, and names each", async () => {
    const m = write("evil/evil.yaml", `name: evil\nversion: 1.0.0\nflavour: prod\nbase:\n  iso: ${evilBase()}\n`);
    const r = await bundle(m, join(dir, "out", "evil"));
    expect(r.code, r.stderr).toBe(1);
    for (const says of [
      "prod audit: user root can log in with an empty password (/etc/passwd)",
      "prod audit: /etc/inittab (no id): '/bin/sh' logs in without a password (a shell on the console, wait)",
      "prod audit: /etc/inittab tty3: '/bin/login -f root' logs in without a password (login -f, respawn)",
      "prod audit: builtin extension openssh.tcz holds usr/local/sbin/sshd, a remote-login daemon",
      "prod audit: /tmp/builtin/onboot.lst loads ghost.tcz, which the image does not hold",
      "prod audit: usr/sbin/in.telnetd is a remote-login daemon",
    ])
      expect(r.stderr).toContain(says);
    expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
  });
});
