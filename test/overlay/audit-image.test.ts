// The prod audit on images built here entry by entry: every inittab variant that starts a
// shell or a login without a password (and the lines that do not), account files reached
// through symlinks and hard links, links that leave the image.
import { describe, expect, it } from "vitest";
import { DEFAULT_LIMITS } from "../../src/formats/limits.js";
import { auditImage, unauthenticated } from "../../src/overlay/audit.js";
import { fileEntry, type Entry } from "../../src/tree/entry.js";
import { treeOf } from "../../src/tree/file-tree.js";

const file = (path: string, text: string) => fileEntry(path, Buffer.from(text), 0);
const link = (path: string, target: string, type: "symlink" | "hardlink" = "symlink"): Entry => ({
  path,
  type,
  mode: 0o777,
  uid: 0,
  gid: 0,
  mtime: 0,
  size: 0,
  linkTarget: target,
});
const audit = (...entries: Entry[]) => auditImage(treeOf(entries), { limits: DEFAULT_LIMITS });

describe("inittab processes that let someone in", () => {
  it.each([
    ["/bin/sh", "a shell on the console"],
    ["-/bin/sh", "a shell on the console"],
    ["/bin/hush", "a shell on the console"],
    ["/bin/zsh -l", "a shell on the console"],
    ["/usr/local/bin/bash -i", "a shell on the console"],
    ["/bin/busybox sh", "a shell on the console"],
    ["/bin/cttyhack /bin/sh", "a shell on the console"],
    ["exec env TERM=linux /bin/ash", "a shell on the console"],
    ["/bin/login -f root", "login -f"],
    ["/bin/login -pf tc", "login -f"],
    ["/sbin/getty -nl /sbin/autologin 38400 tty1", "an autologin"],
    ["/sbin/getty -n 38400 tty1", "a getty that skips the login"],
    ["/sbin/getty -l /bin/sh 38400 tty1", "a getty that skips the login"],
    ["/sbin/agetty --autologin root tty1", "an autologin"],
    ["/usr/bin/autologin", "an autologin"],
  ])("'%s': %s", (command, how) => {
    expect(unauthenticated(command)).toBe(how);
  });

  it.each([
    "/etc/init.d/rcS",
    "/sbin/getty 38400 tty1",
    "/sbin/getty -L 115200 ttyS0 vt100",
    "/bin/login",
    "/bin/sh /etc/init.d/rc.shutdown",
    "/bin/sh -c 'mount -a'",
    "/sbin/reboot",
    "/etc/init.d/rc.shutdown",
  ])("'%s' asks for a password or starts no shell", (command) => {
    expect(unauthenticated(command)).toBeUndefined();
  });
});

describe("account files as the system opens them", () => {
  it("follows a symlinked /etc/passwd and a hard-linked /etc/shadow to what they hold", async () => {
    const problems = await audit(
      link("etc/passwd", "../usr/share/pw"),
      file("usr/share/pw", "root::0:0:root:/root:/bin/sh\n"),
      file("usr/share/sh", "tc:$6$salt$hash:1:0:99999:7:::\n"),
      link("etc/shadow", "usr/share/sh", "hardlink"),
      link("etc/inittab", "/usr/share/tab"),
      file("usr/share/tab", "::askfirst:-/bin/sh\n"),
    );
    expect(problems).toEqual([
      "prod audit: user tc can log in with a password (/etc/shadow)",
      "prod audit: user root can log in with an empty password (/etc/passwd)",
      "prod audit: /etc/inittab (no id): '-/bin/sh' logs in without a password (a shell on the console, askfirst)",
    ]);
  });

  it("refuses a link that leaves what the image holds, or loops", async () => {
    const problems = await audit(link("etc/shadow", "/mnt/sda1/shadow"), link("etc/inittab", "inittab"));
    expect(problems).toEqual([
      "prod audit: /etc/shadow leads to /mnt/sda1/shadow, which the image does not hold: what it says at boot cannot be audited",
      "prod audit: /etc/inittab is a loop of symbolic links: what it says at boot cannot be audited",
    ]);
  });

  it("passes locked accounts and an inittab that asks for a password", async () => {
    expect(
      await audit(
        file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\ntc:x:1001:50::/home/tc:/bin/sh\n"),
        file("etc/shadow", "root:*:1:0:99999:7:::\ntc:!:1:0:99999:7:::\n"),
        file(
          "etc/inittab",
          "::sysinit:/etc/init.d/rcS\ntty1::respawn:/sbin/getty 38400 tty1\n::ctrlaltdel:/sbin/reboot\n",
        ),
      ),
    ).toEqual([]);
  });
});

describe("remote-login daemons under any name", () => {
  it.each([
    "usr/sbin/in.telnetd",
    "usr/sbin/utelnetd",
    "usr/sbin/telnetd",
    "usr/local/sbin/sshd-session",
    "bin/dropbearmulti",
  ])("%s", async (path) => {
    expect(await audit(link(path, "/bin/busybox"))).toEqual([`prod audit: ${path} is a remote-login daemon`]);
  });
});

describe("mkbundle dev's live-update receiver", () => {
  it("is refused in a prod image (a files: entry cannot smuggle it in)", async () => {
    const problems = await audit(file("opt/mkbundle/dev/receiver.sh", "#!/bin/sh\n"), file("etc/motd", "hi\n"));
    expect(problems).toEqual([
      "prod audit: opt/mkbundle/dev/receiver.sh is mkbundle dev's live-update channel: it belongs only in the images mkbundle dev boots",
    ]);
    expect(await audit(file("opt/mkbundle/services/hello.sh", "#!/bin/sh\n"))).toEqual([]);
  });
});
