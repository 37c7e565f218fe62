// QEMU's arguments, the check parsers, the HTTP poller against a real local server, and the
// console watcher against a stand-in for QEMU (MKBUNDLE_QEMU): output, timeout, kill.
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parsePort, qemuArgs } from "../../src/qemu/args.js";
import { httpCheckOnce, parseHttpCheck } from "../../src/qemu/checks.js";
import { mkbundleAsync } from "../helpers/cli.js";
import { fixturesDir } from "../helpers/paths.js";
import { sh } from "../helpers/run.js";
import { tempDir } from "../helpers/tmp.js";

const { dir } = tempDir("mkbundle-qemu-");

describe("QEMU arguments", () => {
  it("forwards ports on 127.0.0.1 only, through an e1000 on user-mode networking", () => {
    const args = qemuArgs({ iso: "x.iso", memoryMb: 256, ports: [parsePort("18080:80"), parsePort("2222:22")], kvm: false, interactive: false });
    expect(args.join(" ")).toBe("-m 256 -no-reboot -display none -serial stdio -monitor none -accel tcg -cdrom x.iso -boot d -netdev user,id=net0,hostfwd=tcp:127.0.0.1:18080-:80,hostfwd=tcp:127.0.0.1:2222-:22 -device e1000,netdev=net0");
  });

  it("boots a kernel directly, with KVM when asked, on the terminal for run", () => {
    const args = qemuArgs({ kernel: { kernel: "k", initrd: "i", append: "console=ttyS0 nozswap" }, memoryMb: 512, ports: [], kvm: true, interactive: true });
    expect(args).toEqual(["-m", "512", "-no-reboot", "-nographic", "-enable-kvm", "-cpu", "host", "-kernel", "k", "-initrd", "i", "-append", "console=ttyS0 nozswap", "-netdev", "user,id=net0", "-device", "e1000,netdev=net0"]);
  });

  it("rejects bad port forwards and HTTP checks that leave the machine", () => {
    expect(() => parsePort("80")).toThrow(/HOST:GUEST/);
    expect(() => parsePort("70000:80")).toThrow(/1-65535/);
    expect(parseHttpCheck("http://127.0.0.1:18080/index.html~Hello, w.rld")).toMatchObject({ url: "http://127.0.0.1:18080/index.html" });
    expect(parseHttpCheck("http://127.0.0.1:18080/~Hello").body.test("Hello there")).toBe(true);
    expect(() => parseHttpCheck("http://10.0.0.1/~x")).toThrow(/127\.0\.0\.1 only/);
    expect(() => parseHttpCheck("no-url")).toThrow(/URL~REGEX/);
  });
});

describe("the HTTP poller", () => {
  let url: string;
  let hits = 0; // of /late: it answers 503 twice, then 200
  const server = createServer((req, res) => {
    if (req.url === "/late" && ++hits < 3) return void res.writeHead(503).end("not yet");
    res.writeHead(200).end(`<p>Hello from ${req.url}</p>`);
  });
  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it("passes on a matching 2xx body, not on 5xx, a wrong body or a closed port", async () => {
    expect((await httpCheckOnce(parseHttpCheck(`${url}/~Hello from /`))).ok).toBe(true);
    expect(await httpCheckOnce(parseHttpCheck(`${url}/~Goodbye`))).toMatchObject({ ok: false, last: expect.stringContaining("HTTP 200") });
    hits = 0;
    expect(await httpCheckOnce(parseHttpCheck(`${url}/late~Hello`))).toMatchObject({ ok: false, last: "HTTP 503: not yet" });
    expect((await httpCheckOnce(parseHttpCheck("http://127.0.0.1:1/~x"))).ok).toBe(false);
  });

  it("mkbundle test polls until every check passes, against a stand-in for QEMU", async () => {
    const fake = join(dir, "fake-qemu");
    const pidFile = join(dir, "fake.pid");
    writeFileSync(fake, `#!/bin/sh\necho $$ > ${pidFile}\necho "args: $*"\nsleep 1\necho "Booting Core 4.4"\nsleep 1\necho "Setting hostname to box"\nexec sleep 600\n`);
    chmodSync(fake, 0o755);
    const iso = join(fixturesDir(), "tinycore/4.x/x86/release/Core-4.4.iso");
    hits = 0;
    const ok = await mkbundleAsync(["test", iso, "--expect", "Setting hostname", "--http", `${url}/late~Hello`, "--port", "18080:80", "--timeout", "30"], { env: { MKBUNDLE_QEMU: fake } });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stderr).toMatch(/passed: 2 checks in/);
    expect(hits).toBeGreaterThanOrEqual(3);
    // Timeout: what was missing, the console, exit 1, and no QEMU left behind.
    const bad = await mkbundleAsync(["test", iso, "--expect", "Setting hostname", "--expect", "never-printed", "--timeout", "4"], { env: { MKBUNDLE_QEMU: fake } });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("error: console never showed /never-printed/");
    expect(bad.stderr).toContain("--- console");
    expect(bad.stderr).toContain("Setting hostname to box");
    const pid = sh(`cat ${pidFile}`).toString().trim();
    expect(sh(`kill -0 ${pid} 2>/dev/null && echo alive || echo gone`).toString().trim()).toBe("gone");
  }, 60_000);

  it("mkbundle run hands QEMU the console, the forwards and the exit code", async () => {
    const fake = join(dir, "fake-qemu-run");
    writeFileSync(fake, `#!/bin/sh\necho "args: $*"\nexit 3\n`);
    chmodSync(fake, 0o755);
    const iso = join(fixturesDir(), "tinycore/4.x/x86/release/Core-4.4.iso");
    const r = await mkbundleAsync(["run", iso, "--port", "18080:80", "--memory", "256"], { env: { MKBUNDLE_QEMU: fake } });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`args: -m 256 -no-reboot -nographic -accel tcg -cdrom ${iso} -boot d -netdev user,id=net0,hostfwd=tcp:127.0.0.1:18080-:80 -device e1000,netdev=net0`);
    const k = await mkbundleAsync(["run", iso, "--kernel", "--append", "console=ttyS0"], { env: { MKBUNDLE_QEMU: fake } });
    expect(k.stdout).toMatch(/-kernel \S+\/kernel -initrd \S+\/initrd -append loglevel=3 nozswap console=ttyS0 /);
  });

  it("Ctrl-C during mkbundle test kills QEMU", async () => {
    const fake = join(dir, "fake-qemu-sigint");
    const pidFile = join(dir, "sigint.pid");
    // The KVM probe (-S) fails at once, as on a machine without KVM; the boot itself runs.
    writeFileSync(fake, `#!/bin/sh\ncase " $* " in *" -S "*) exit 1;; esac\necho $$ > ${pidFile}\necho booting\nexec sleep 600\n`);
    chmodSync(fake, 0o755);
    const iso = join(fixturesDir(), "tinycore/4.x/x86/release/Core-4.4.iso");
    const { spawn } = await import("node:child_process");
    const child = spawn(process.execPath, [join(process.cwd(), "dist/src/cli/main.js"), "test", iso, "--expect", "never", "--timeout", "60"], { env: { ...process.env, MKBUNDLE_QEMU: fake }, stdio: "ignore" });
    for (let i = 0; i < 100 && !existsSync(pidFile); i++) await new Promise((r) => setTimeout(r, 100));
    const pid = readFileSync(pidFile, "utf8").trim();
    child.kill("SIGINT");
    const code = await new Promise<number | null>((r) => child.on("exit", (c) => r(c)));
    expect(code).toBe(130);
    await new Promise((r) => setTimeout(r, 300));
    // Gone, or a zombie waiting for a reaper (this container's init does not reap).
    expect(sh(`ps -o stat= -p ${pid} || true`).toString().trim()).toMatch(/^(Z.*)?$/);
  });

  it("names a missing QEMU", async () => {
    const iso = join(fixturesDir(), "tinycore/4.x/x86/release/Core-4.4.iso");
    const r = await mkbundleAsync(["test", iso, "--expect", "x"], { env: { MKBUNDLE_QEMU: join(dir, "no-such-qemu") } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("QEMU is not installed");
  });
});
