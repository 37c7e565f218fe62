// Your own service as a Tiny Core extension, on the x86_64 fixture, judged by the guest's
// kernel: extensions.local packs a directory during the build; Tiny Core's own tce-setup
// loop-mounts it at boot (the service shows /tmp/tcloop/<name> and its mount), the service
// inside it answers over HTTP through --port/--http, and the same kind of extension placed
// with load: mirror is installed by tce-load -i from the image's own mirror. One boot proves
// all of it; the lock pins the extension by its content, and an edit to its directory is seen.
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { mkbundleAsync } from "../helpers/cli.js";
import { fixturesDir } from "../helpers/paths.js";
import { freePort } from "../helpers/registry.js";
import { tempDir } from "../helpers/tmp.js";

const { dir, write } = tempDir("mkbundle-local-ext-");
const PAGE = "Hello from a local extension";

function extensionDirs(): void {
  // The service: a responder and a page, under usr/local as extensions keep them.
  const svc = join(dir, "app", "svc");
  mkdirSync(join(svc, "usr/local/bin"), { recursive: true });
  mkdirSync(join(svc, "usr/local/share/my-svc"), { recursive: true });
  writeFileSync(join(svc, "usr/local/share/my-svc/index.html"), `<p>${PAGE}</p>\n`);
  writeFileSync(
    join(svc, "usr/local/bin/my-svc-respond"),
    [
      "#!/bin/sh",
      "read method path version",
      'while read h && [ "$(echo "$h" | tr -d \'\\r\')" != "" ]; do :; done',
      "page=/usr/local/share/my-svc/index.html",
      "printf 'HTTP/1.0 200 OK\\r\\nContent-Length: %s\\r\\nConnection: close\\r\\n\\r\\n' \"$(wc -c < $page)\"",
      "cat $page",
      "",
    ].join("\n"),
  );
  chmodSync(join(svc, "usr/local/bin/my-svc-respond"), 0o755);
  // A directory large enough for the writer's directory index, which the kernel's lookup uses.
  mkdirSync(join(svc, "usr/local/share/my-svc/many"));
  for (let i = 0; i < 2500; i++)
    writeFileSync(
      join(svc, `usr/local/share/my-svc/many/entry-${String(i).padStart(4, "0")}-${"n".repeat(i % 120)}`),
      `entry ${i}\n`,
    );
  // A tool for the image's mirror, installed at run time.
  const tool = join(dir, "app", "tool");
  mkdirSync(join(tool, "usr/local/bin"), { recursive: true });
  writeFileSync(
    join(tool, "usr/local/bin/my-tool"),
    '#!/bin/sh\necho "my-tool: installed by tce-load, runs from $(readlink -f $0)"\n',
  );
  chmodSync(join(tool, "usr/local/bin/my-tool"), 0o755);
}

const MANIFEST = `name: local-ext
version: 1.0.0
flavour: prod
base:
  release: 10.x
  arch: x86_64
  iso: CorePure64-10.1.iso
extensions:
  local:
    - name: my-svc
      from: svc
    - name: my-tool
      from: tool
      load: mirror
services:
  - name: svc
    run: |
      echo "svc: mounted $(grep -c /tmp/tcloop/my-svc /proc/mounts) time(s), tcloop has $(ls /tmp/tcloop | tr '\\n' ' ')"
      echo "svc: runs $(readlink -f /usr/local/bin/my-svc-respond)"
      echo "svc: looked up $(cat /tmp/tcloop/my-svc/usr/local/share/my-svc/many/entry-2499-${"n".repeat(2499 % 120)}) and $(cat /tmp/tcloop/my-svc/usr/local/share/my-svc/many/entry-0007-nnnnnnn)"
      su tc -c 'tce-load -i /tmp/tinycorelinux/10.x/x86_64/tcz/my-tool.tcz' >/dev/null 2>&1
      sh /usr/local/bin/my-tool  # installed just above: not in the image when it is built
      while true; do nc -l -p 80 -e /usr/local/bin/my-svc-respond; done
    log: /dev/ttyS0
boot:
  append: [console=ttyS0]
  timeout: 0
`;

describe("extensions.local on the x86_64 fixture", () => {
  it("a directory packed during the build is loop-mounted by tce-setup and serves HTTP; load: mirror installs with tce-load", async () => {
    extensionDirs();
    const m = write("app/local-ext.yaml", MANIFEST);
    const wd = join(dir, "wd");
    const out = join(dir, "out");
    const mirror = join(fixturesDir(), "tinycore");
    const built = await mkbundleAsync(["build", m, "--mirror", mirror, "--work-dir", wd, "--out", out]);
    expect(built.code, built.stderr).toBe(0);
    const iso = built.stdout.trim();

    // The lock pins both by content, as local extensions, with their roles.
    const lock = parse(readFileSync(join(dir, "app/local-ext.lock"), "utf8")) as {
      extensions: { name: string; role: string; local?: string; sha256: string }[];
    };
    expect(lock.extensions.map((e) => [e.name, e.role, e.local])).toEqual([
      ["my-svc", "builtin", "svc"],
      ["my-tool", "mirror", "tool"],
    ]);
    // In the image where Tiny Core looks: onboot.lst, optional/, the in-image mirror with its .list.
    const cat = async (...inner: string[]) =>
      (await mkbundleAsync(["cat", iso, "boot/corepure64.gz", ...inner])).stdout;
    expect(await cat("tmp/builtin/onboot.lst")).toBe("my-svc.tcz\n");
    expect(await cat("tmp/builtin/optional/my-svc.tcz", "usr/local/share/my-svc/index.html")).toBe(`<p>${PAGE}</p>\n`);
    expect(await cat("tmp/tinycorelinux/10.x/x86_64/tcz/my-tool.tcz.list")).toBe("usr/local/bin/my-tool\n");

    // The kernel is the judge: mounted by tce-setup, linked into /usr/local, installed by tce-load, serving.
    const port = await freePort();
    const t = await mkbundleAsync([
      "test",
      iso,
      "--expect",
      "svc: mounted 1 time\\(s\\), tcloop has .*my-svc",
      "--expect",
      "svc: runs /tmp/tcloop/my-svc/usr/local/bin/my-svc-respond",
      "--expect",
      "svc: looked up entry 2499 and entry 7",
      "--expect",
      "my-tool: installed by tce-load, runs from /tmp/tcloop/my-tool/usr/local/bin/my-tool",
      "--port",
      `${port}:80`,
      "--http",
      `http://127.0.0.1:${port}/~${PAGE}`,
      "--timeout",
      "240",
    ]);
    expect(t.code, t.stderr.slice(-4000)).toBe(0);

    // An edit to the directory is a new pin (the lock is no longer up to date), the same directory the same pin.
    const again = await mkbundleAsync(["lock", m, "--mirror", mirror, "--work-dir", wd]);
    expect(again.stderr).toMatch(/up to date|unchanged/);
    writeFileSync(join(dir, "app/svc/usr/local/share/my-svc/index.html"), "<p>edited</p>\n");
    const edited = await mkbundleAsync(["lock", m, "--mirror", mirror, "--work-dir", wd]);
    expect(edited.code, edited.stderr).toBe(0);
    const after = parse(readFileSync(join(dir, "app/local-ext.lock"), "utf8")) as typeof lock;
    expect(after.extensions[0]!.sha256).not.toBe(lock.extensions[0]!.sha256);
    expect(after.extensions[1]!.sha256).toBe(lock.extensions[1]!.sha256);
  }, 400_000);
});
