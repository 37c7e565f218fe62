// QEMU's arguments, the check parsers, the HTTP poller against a real local server, the KVM
// probe under real QEMU, and `mkbundle run`/`test` against stand-ins for QEMU
// (MKBUNDLE_QEMU): output, timeout, early exit, accelerator choice and fallback, kill.
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { accelArgs } from "../../src/qemu/accel.js";
import { parsePort, qemuArgs } from "../../src/qemu/args.js";
import { httpCheckOnce, parseHttpCheck } from "../../src/qemu/checks.js";
import { PROBE_MARKER, probeFirmware, runProbe } from "../../src/qemu/kvm-probe.js";
import { BIN, mkbundleAsync } from "../helpers/cli.js";
import { fixturesDir, repoRoot } from "../helpers/paths.js";
import { q, sh } from "../helpers/run.js";
import { brokenKvm, standIn } from "../helpers/qemu-stand-in.js";
import { tempDir } from "../helpers/tmp.js";
import { TINY_KERNEL_MARKER, tinyIso, tinyKernel } from "../helpers/tiny-kernel.js";

const { dir } = tempDir("mkbundle-qemu-");
const fixtureIso = () => join(fixturesDir(), "tinycore/4.x/x86/release/Core-4.4.iso");

const isAlive = (pid: string) => sh(`ps -o stat= -p ${pid} || true`).toString().trim();
const waitFor = async (path: string) => {
  for (let i = 0; i < 200 && !existsSync(path); i++) await new Promise((r) => setTimeout(r, 50));
};

describe("QEMU arguments", () => {
  it("forwards ports on 127.0.0.1 only, through an e1000 on user-mode networking", () => {
    const args = qemuArgs({
      iso: "x.iso",
      memoryMb: 256,
      ports: [parsePort("18080:80"), parsePort("2222:22")],
      accel: "tcg",
      interactive: false,
    });
    expect(args.join(" ")).toBe(
      "-m 256 -no-reboot -display none -serial stdio -monitor none -accel tcg -cdrom x.iso -boot d -netdev user,id=net0,hostfwd=tcp:127.0.0.1:18080-:80,hostfwd=tcp:127.0.0.1:2222-:22 -device e1000,netdev=net0",
    );
  });

  it("boots a kernel directly, with KVM when asked, on the terminal for run; a disk when asked", () => {
    const args = qemuArgs({
      kernel: { kernel: "k", initrd: "i", append: "console=ttyS0 nozswap" },
      memoryMb: 512,
      ports: [],
      accel: "kvm",
      interactive: true,
    });
    expect(args).toEqual([
      "-m",
      "512",
      "-no-reboot",
      "-display",
      "none",
      "-chardev",
      "stdio,id=console,signal=on",
      "-serial",
      "chardev:console",
      "-monitor",
      "none",
      "-accel",
      "kvm",
      "-cpu",
      "host",
      "-kernel",
      "k",
      "-initrd",
      "i",
      "-append",
      "console=ttyS0 nozswap",
      "-netdev",
      "user,id=net0",
      "-device",
      "e1000,netdev=net0",
    ]);
    expect(
      qemuArgs({ iso: "x.iso", disk: "scratch", memoryMb: 512, ports: [], accel: "tcg", interactive: false }).join(" "),
    ).toContain("-drive file=x.iso,format=raw,snapshot=on -boot c");
    // A disk image with a data partition keeps the guest's writes; a data partition beside a CD too.
    const kept = { memoryMb: 512, ports: [], accel: "tcg" as const, interactive: false };
    expect(qemuArgs({ ...kept, iso: "a,b.img", disk: "kept" }).join(" ")).toContain(
      "-drive file=a,,b.img,format=raw -boot c",
    );
    expect(qemuArgs({ ...kept, iso: "x.iso", data: "d.img" }).join(" ")).toContain(
      "-cdrom x.iso -boot d -drive file=d.img,format=raw,if=ide,index=1",
    );
  });

  it("rejects bad port forwards and HTTP checks that leave the machine", () => {
    expect(() => parsePort("80")).toThrow(/HOST:GUEST/);
    expect(() => parsePort("70000:80")).toThrow(/1-65535/);
    expect(parseHttpCheck("http://127.0.0.1:18080/index.html~Hello, w.rld")).toMatchObject({
      url: "http://127.0.0.1:18080/index.html",
    });
    expect(parseHttpCheck("http://127.0.0.1:18080/~Hello").body.test("Hello there")).toBe(true);
    expect(() => parseHttpCheck("http://10.0.0.1/~x")).toThrow(/127\.0\.0\.1 only/);
    expect(() => parseHttpCheck("no-url")).toThrow(/URL~REGEX/);
    expect(() => parseHttpCheck("http://127.0.0.1/~(")).toThrow(/not a regular expression/);
  });
});

describe("the KVM probe", () => {
  it("is the guest kvm-probe.asm assembles to (nasm)", () => {
    const out = join(dir, "probe.bin");
    sh(`nasm -f bin ${q(join(repoRoot, "src/qemu/kvm-probe.asm"))} -o ${q(out)}`);
    expect(readFileSync(out).equals(probeFirmware())).toBe(true);
  });

  it("runs under real QEMU (software emulation) and prints its marker", async () => {
    const r = await runProbe("qemu-system-x86_64", accelArgs("tcg"), 20_000);
    expect(r, r.why).toMatchObject({ ok: true });
    expect(PROBE_MARKER).toBe("MKBUNDLE-KVM-PROBE-OK");
  });

  it("fails with QEMU's reason when QEMU aborts, and on silence", async () => {
    const abort = brokenKvm(
      dir,
      "probe-abort",
      `echo "qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69" >&2; exit 134`,
    );
    expect(await runProbe(abort, accelArgs("kvm"))).toMatchObject({
      ok: false,
      why: "QEMU said: failed to set MSR 0x10a to 0x69",
    });
    const silent = brokenKvm(dir, "probe-silent", "exec sleep 600");
    expect(await runProbe(silent, accelArgs("kvm"), 1500)).toMatchObject({
      ok: false,
      why: "a test guest printed nothing within 1.5 s",
    });
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
    expect(await httpCheckOnce(parseHttpCheck(`${url}/~Goodbye`))).toMatchObject({
      ok: false,
      last: expect.stringContaining("HTTP 200") as unknown,
    });
    hits = 0;
    expect(await httpCheckOnce(parseHttpCheck(`${url}/late~Hello`))).toMatchObject({
      ok: false,
      last: "HTTP 503: not yet",
    });
    expect(await httpCheckOnce(parseHttpCheck("http://127.0.0.1:1/~x"))).toMatchObject({
      ok: false,
      last: expect.stringContaining("connection refused") as unknown,
    });
  });

  it("mkbundle test polls until every check passes, against a stand-in for QEMU", async () => {
    const pidFile = join(dir, "fake.pid");
    const fake = standIn(
      dir,
      "fake-qemu",
      `echo $$ > ${pidFile}\necho "args: $*"\nsleep 1\necho "Booting Core 4.4"\nsleep 1\necho "Setting hostname to box"\nexec sleep 600\n`,
    );
    hits = 0;
    const ok = await mkbundleAsync(
      [
        "test",
        fixtureIso(),
        "--expect",
        "Setting hostname",
        "--http",
        `${url}/late~Hello`,
        "--port",
        "28080:80",
        "--timeout",
        "30",
        "--accel",
        "tcg",
      ],
      { env: { MKBUNDLE_QEMU: fake } },
    );
    expect(ok.code, ok.stderr).toBe(0);
    // Said once: the result on stdout, nothing about it on stderr.
    expect(ok.stdout).toMatch(/^passed: 2 checks in \d+\.\d s\n$/);
    expect(ok.stderr).not.toMatch(/passed/);
    expect(hits).toBeGreaterThanOrEqual(3);
    // Timeout: what was missing, the console, exit 1, the console saved, and no QEMU left behind.
    const out = join(dir, "out-timeout");
    const bad = await mkbundleAsync(
      [
        "test",
        fixtureIso(),
        "--expect",
        "Setting hostname",
        "--expect",
        "never-printed",
        "--timeout",
        "4",
        "--out",
        out,
      ],
      { env: { MKBUNDLE_QEMU: fake, MKBUNDLE_ACCEL: "tcg" } },
    );
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("error: console never showed /never-printed/");
    expect(bad.stderr).toContain("--- console");
    expect(bad.stderr).toContain("Setting hostname to box");
    expect(readFileSync(join(out, "Core-4.4.iso.console.log"), "utf8")).toContain("Setting hostname to box");
    expect(isAlive(readFileSync(pidFile, "utf8").trim())).toMatch(/^(Z.*)?$/);
  }, 60_000);

  it("--junit writes valid JUnit XML with one testcase per check; --json reports checks and the accelerator", async () => {
    const fake = standIn(
      dir,
      "fake-qemu-junit",
      `echo "Booting Core 4.4 <&>"\necho "Setting hostname to box"\nexec sleep 600\n`,
    );
    const junit = join(dir, "report.xml");
    const r = await mkbundleAsync(
      [
        "test",
        fixtureIso(),
        "--expect",
        "Setting hostname",
        "--expect",
        "never",
        "--http",
        `${url}/~Hello`,
        "--timeout",
        "3",
        "--accel",
        "tcg",
        "--junit",
        junit,
        "--json",
        "--out",
        join(dir, "out-junit"),
      ],
      { env: { MKBUNDLE_QEMU: fake } },
    );
    expect(r.code).toBe(1);
    sh(`xmllint --noout ${q(junit)}`); // a real XML parser: throws on malformed XML
    const xpath = (x: string) =>
      sh(`xmllint --xpath ${q(x)} ${q(junit)}`)
        .toString()
        .trim();
    expect(xpath("count(//testsuite/testcase)")).toBe("3");
    expect(xpath("count(//testcase/failure)")).toBe("1");
    expect(xpath("string(//testcase[failure]/@name)")).toBe("/never/");
    expect(xpath("string(//system-out)")).toContain("Booting Core 4.4 <&>");
    const json = JSON.parse(r.stdout) as {
      passed: boolean;
      accelerator: string;
      checks: { name: string; passed: boolean; seconds?: number }[];
      consoleLog: string;
    };
    expect(json.passed).toBe(false);
    expect(json.accelerator).toBe("tcg");
    expect(json.checks.map((c) => [c.name, c.passed])).toEqual([
      ["/Setting hostname/", true],
      ["/never/", false],
      [`${url}/~Hello`, true],
    ]);
    expect(json.checks[0]!.seconds).toBeGreaterThan(0);
    expect(readFileSync(json.consoleLog, "utf8")).toContain("Setting hostname to box");
  });

  it("mkbundle run hands QEMU the console, the forwards and the exit status; --append boots the kernel directly", async () => {
    const fake = standIn(dir, "fake-qemu-run", `echo "args: $*"\nexit 3\n`);
    const r = await mkbundleAsync(["run", fixtureIso(), "--port", "28080:80", "--memory", "256", "--accel", "tcg"], {
      env: { MKBUNDLE_QEMU: fake },
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      `args: -m 256 -no-reboot -display none -chardev stdio,id=console,signal=on -serial chardev:console -monitor none -accel tcg -cdrom ${fixtureIso()} -boot d -netdev user,id=net0,hostfwd=tcp:127.0.0.1:28080-:80 -device e1000,netdev=net0`,
    );
    const k = await mkbundleAsync(["run", fixtureIso(), "--kernel", "--append", "console=ttyS0"], {
      env: { MKBUNDLE_QEMU: fake, MKBUNDLE_ACCEL: "tcg" },
    });
    expect(k.stdout).toMatch(/-kernel \S+\/kernel -initrd \S+\/initrd -append loglevel=3 nozswap console=ttyS0 /);
    const a = await mkbundleAsync(["run", fixtureIso(), "--append", "console=ttyS0"], {
      env: { MKBUNDLE_QEMU: fake, MKBUNDLE_ACCEL: "tcg" },
    });
    expect(a.stderr).toContain("--append: booting the ISO's kernel and initrds directly");
    expect(a.stdout).toMatch(/-kernel \S+\/kernel -initrd \S+\/initrd -append loglevel=3 nozswap console=ttyS0 /);
  });

  it("says up front when the boot line has no serial console", async () => {
    const fake = standIn(dir, "fake-qemu-silent", `exit 0\n`);
    const r = await mkbundleAsync(
      ["test", fixtureIso(), "--expect", "x", "--accel", "tcg", "--out", join(dir, "out-silent")],
      { env: { MKBUNDLE_QEMU: fake } },
    );
    expect(r.stderr).toContain(
      "warning: the boot line (loglevel=3 nozswap) has no console=ttyS0: the kernel will not write to the serial console",
    );
    expect(r.stderr).toContain(
      "add console=ttyS0 to boot.append in the manifest, or boot with --kernel --append console=ttyS0",
    );
  });
});

describe("mkbundle run in a terminal", () => {
  it("Ctrl-C typed at the guest's console ends the guest and mkbundle (exit 130), as the README says", async () => {
    const iso = await tinyIso(dir, "print-forever", tinyKernel("print"));
    // A real pseudo-terminal (util-linux script), so QEMU sees a terminal as a user's would.
    const child = spawn(
      "script",
      ["-qefc", `${q(process.execPath)} ${q(BIN)} run ${q(iso)} --accel tcg`, "/dev/null"],
      {
        stdio: ["pipe", "pipe", "pipe"],
      },
    );
    let seen = "";
    child.stdout.on("data", (d: Buffer) => (seen += d.toString("latin1")));
    const exited = new Promise<number | null>((r) => child.on("exit", (c) => r(c)));
    try {
      for (let i = 0; i < 1200 && !seen.includes(TINY_KERNEL_MARKER); i++) await new Promise((r) => setTimeout(r, 100));
      expect(seen).toContain("Ctrl-C ends it");
      expect(seen).toContain(TINY_KERNEL_MARKER);
      child.stdin.write("\x03");
      const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r("still running"), 15_000))]);
      expect(code).toBe(130);
    } finally {
      child.kill("SIGKILL");
    }
  }, 180_000);
});

describe("failing fast", () => {
  it("a file that is not an ISO, or is missing, exits 2 at once", async () => {
    const notIso = await mkbundleAsync(["test", join(repoRoot, "package.json"), "--expect", "x"]);
    expect(notIso.code).toBe(2);
    expect(notIso.stderr.trim()).toBe(
      `${join(repoRoot, "package.json")}: not an ISO 9660 image (mkbundle boots ISOs such as rebuild-iso writes them (and Tiny Core's own))`,
    );
    const missing = await mkbundleAsync(["test", join(dir, "nothing.iso"), "--expect", "x"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("nothing.iso: image not found");
  });

  it("a host port already in use is named before QEMU starts (test and run)", async () => {
    const taken = createServer(() => {});
    await new Promise<void>((r) => taken.listen(0, "127.0.0.1", r));
    const port = (taken.address() as AddressInfo).port;
    const fake = standIn(dir, "fake-qemu-never", `echo "QEMU RAN"\nexit 0\n`);
    try {
      for (const args of [
        ["test", fixtureIso(), "--expect", "x", "--port", `${port}:80`],
        ["run", fixtureIso(), "--port", `${port}:80`],
      ]) {
        const r = await mkbundleAsync([...args, "--accel", "tcg"], { env: { MKBUNDLE_QEMU: fake } });
        expect(r.code, r.stderr).toBe(2);
        expect(r.stderr).toContain(`--port ${port}:80: port ${port} on 127.0.0.1 is already in use`);
        expect(r.stdout).not.toContain("QEMU RAN");
      }
    } finally {
      taken.close();
    }
  });

  it("a kernel that resets at once fails when QEMU exits, not at the timeout", async () => {
    const iso = await tinyIso(dir, "reset", tinyKernel("reset"));
    for (const extra of [[], ["--kernel"]]) {
      const r = await mkbundleAsync([
        "test",
        iso,
        ...extra,
        "--expect",
        "never",
        "--timeout",
        "150",
        "--accel",
        "tcg",
        "--out",
        join(dir, "out-reset"),
      ]);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/error: failed after \d+\.\d s: QEMU exited with code 0/);
    }
  });
});

describe("QEMU never outlives mkbundle", () => {
  const killed = async (command: string, signal: NodeJS.Signals, name: string) => {
    const pidFile = join(dir, `${name}.pid`);
    const fake = standIn(dir, name, `echo $$ > ${pidFile}\necho booting\nexec sleep 600\n`);
    const args =
      command === "run" ? ["run", fixtureIso()] : ["test", fixtureIso(), "--expect", "never", "--timeout", "60"];
    const child = spawn(process.execPath, [BIN, ...args, "--accel", "tcg"], {
      env: { ...process.env, MKBUNDLE_QEMU: fake },
      stdio: "ignore",
    });
    await waitFor(pidFile);
    const pid = readFileSync(pidFile, "utf8").trim();
    expect(isAlive(pid)).toMatch(/^S/);
    child.kill(signal);
    const code = await new Promise<number | null>((r) => child.on("exit", (c) => r(c)));
    for (let i = 0; i < 40 && /^[^Z]/.test(isAlive(pid)); i++) await new Promise((r) => setTimeout(r, 50));
    // Gone, or a zombie waiting for a reaper (this container's init does not reap).
    expect(isAlive(pid)).toMatch(/^(Z.*)?$/);
    return code;
  };

  it("Ctrl-C during mkbundle test kills QEMU, exit 130; SIGTERM exit 143", async () => {
    expect(await killed("test", "SIGINT", "sigint")).toBe(130);
    expect(await killed("test", "SIGTERM", "sigterm")).toBe(143);
  });

  it("SIGKILL of mkbundle test or mkbundle run leaves no QEMU", async () => {
    expect(await killed("test", "SIGKILL", "sigkill-test")).toBe(null);
    expect(await killed("run", "SIGKILL", "sigkill-run")).toBe(null);
  });

  it("names a missing QEMU", async () => {
    const r = await mkbundleAsync(["test", fixtureIso(), "--expect", "x"], {
      env: { MKBUNDLE_QEMU: join(dir, "no-such-qemu") },
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("QEMU is not installed");
  });
});
