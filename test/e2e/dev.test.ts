// `mkbundle dev`: the guest boots with the overlay; saving a file the manifest reads sends the
// changed files into the running guest (a read-only 9p share on the x86_64 fixture, the second
// serial port on the 4.x one, whose kernel has no 9p) and restarts the services they concern,
// without a reboot (the guest's boot marker is printed once); a change to the extensions
// reboots, saying why; an update not from this session is refused; Ctrl-C leaves no QEMU and
// no temporary (shared) directory. The edit-to-console times are written to
// test-artifacts/dev-live.json (measured, never asserted).
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BIN, cleanEnv, mkbundle } from "../helpers/cli.js";
import { fixturesDir, repoRoot } from "../helpers/paths.js";
import { sh } from "../helpers/run.js";
import { tempDir } from "../helpers/tmp.js";

const { dir, write } = tempDir("mkbundle-dev-e2e-");
const measured: Record<string, unknown> = {};
afterAll(() => {
  mkdirSync(join(repoRoot, "test-artifacts"), { recursive: true });
  writeFileSync(join(repoRoot, "test-artifacts", "dev-live.json"), `${JSON.stringify(measured, null, 2)}\n`);
});

interface Dev {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  until(what: () => boolean, seconds: number): Promise<boolean>;
  stop(): Promise<number | null>;
}

function startDev(manifest: string, expects: string[]): Dev {
  const before = new Set(readdirSync(tmpdir()).filter((n) => n.startsWith("mkbundle-dev-")));
  const child = spawn(
    process.execPath,
    [
      BIN,
      "dev",
      manifest,
      ...expects.flatMap((e) => ["--expect", e]),
      "--accel",
      "tcg",
      "--mirror",
      join(fixturesDir(), "tinycore"),
      "--work-dir",
      join(dir, "wd"),
    ],
    { stdio: ["ignore", "pipe", "pipe"], env: cleanEnv() },
  );
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString("latin1")));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  return {
    child,
    out: () => stdout,
    err: () => stderr,
    async until(what, seconds) {
      for (let i = 0; i < seconds * 20 && !what() && child.exitCode === null; i++)
        await new Promise((r) => setTimeout(r, 50));
      return what();
    },
    async stop() {
      const exited = new Promise<number | null>((r) => child.on("exit", (c) => r(c)));
      child.kill("SIGINT");
      const code = await exited;
      await new Promise((r) => setTimeout(r, 500));
      // No QEMU of this session, and its temporary directory (the 9p share, the serial socket) gone.
      expect(sh("ps -eo stat=,args= | grep '[m]kbundle-dev-' | grep -v '^Z' || true").toString().trim()).toBe("");
      const left = readdirSync(tmpdir()).filter((n) => n.startsWith("mkbundle-dev-") && !before.has(n));
      expect(left.filter((n) => existsSync(join(tmpdir(), n, "initrd")))).toEqual([]);
      return code;
    },
  };
}

/** Five edits of the message: each shows on the console without a reboot; edit-to-console in ms. */
async function fiveEdits(dev: Dev, message: string, channel: string): Promise<number[]> {
  const times: number[] = [];
  for (let i = 1; i <= 5; i++) {
    const text = `message v${i}-${channel}`;
    const at = Date.now();
    writeFileSync(message, `${text}\n`);
    expect(await dev.until(() => dev.out().includes(`printed ${text}`), 60), dev.err()).toBe(true);
    times.push(Date.now() - at);
    expect(dev.err()).toMatch(new RegExp(`dev: live update ${i} over ${channel}: /etc/live/message \\(\\d+ bytes`));
  }
  return times;
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const bootMarkers = (dev: Dev) => dev.out().match(/boot marker \S+/g) ?? [];

const manifestFor = (base: string, more = "") => `name: live
version: 0.1.0
flavour: dev
${base}
files:
  - path: /etc/live/message
    source: message.txt
  - path: /etc/other/conf
    content: other
services:
  - name: printer
    run: |
      echo "printed $(cat /etc/live/message)"
      exec sleep 100000
    log: /dev/console
  - name: greeter
    env_file: greeter.env
    run: |
      echo "greeting $GREETING"
      exec sleep 100000
    log: /dev/console
    reload_on: [etc/other/**]
  - name: marker
    run: echo "boot marker $(cat /proc/uptime)"
    log: /dev/console
    reload_on: []
${more}boot:
  append: [console=ttyS0]
`;

describe("mkbundle dev: live updates", () => {
  it("x86_64 over 9p: five edits without a reboot, env_file restarts its service, extensions reboot", async () => {
    const manifest = write(
      "x64/live.yaml",
      manifestFor("base:\n  release: 10.x\n  arch: x86_64\n  iso: CorePure64-10.1.iso"),
    );
    const message = write("x64/message.txt", "message v0\n");
    const env = write("x64/greeter.env", "GREETING=hello\n");
    const dev = startDev(manifest, ["printed message v0"]);
    try {
      expect(
        await dev.until(() => /dev: \/printed message v0\/ [\d.]+ s after the start/.test(dev.err()), 180),
        dev.err(),
      ).toBe(true);
      expect(await dev.until(() => /mkbundle: dev receiver ready \(9p\)/.test(dev.out()), 30), dev.out()).toBe(true);
      expect(dev.err()).toContain("dev: live updates over a read-only 9p share");
      expect(dev.out()).toContain("greeting hello");
      const times = await fiveEdits(dev, message, "9p");
      measured["x86_64-9p"] = { editToConsoleMs: times, medianMs: median(times) };
      // The message's service restarted, and greeter not: its reload_on names other files.
      expect(dev.err()).toMatch(
        /live update 1 over 9p: \/etc\/live\/message \(\d+ bytes, [\d.]+ s after the save\); restarting: printer\n/,
      );
      expect(dev.out().match(/greeting hello/g)).toHaveLength(1);
      // The env_file: greeter's command file changes, so it restarts with the value (and printer, which has no reload_on).
      writeFileSync(env, "GREETING=bonjour\n");
      expect(await dev.until(() => dev.out().includes("greeting bonjour"), 60), dev.err()).toBe(true);
      expect(dev.err()).toMatch(
        /live update 6 over 9p: \/opt\/mkbundle\/services\/greeter\.run .*restarting: printer, greeter\n/,
      );
      // An update not from this dev loop (wrong token) is refused by the guest.
      const share = readdirSync(tmpdir())
        .filter((n) => n.startsWith("mkbundle-dev-"))
        .map((n) => join(tmpdir(), n, "share"))
        .find((p) => existsSync(join(p, "update")))!;
      writeFileSync(
        join(share, "update-99.tar.gz"),
        readFileSync(
          join(
            share,
            readdirSync(share).find((f) => /^update-\d+\.tar\.gz$/.test(f))!,
          ),
        ),
      );
      writeFileSync(
        join(share, "update"),
        `99 ${"0".repeat(40)} ${readFileSync(join(share, "update-99.tar.gz")).length} printer\n`,
      );
      expect(
        await dev.until(() => dev.out().includes("mkbundle: dev update 99 refused: not from this dev session"), 30),
      ).toBe(true);
      expect(bootMarkers(dev)).toHaveLength(1); // no reboot through all of it
      // extensions: needs a new image: a reboot, with the reason.
      writeFileSync(
        manifest,
        readFileSync(manifest, "utf8").replace("files:", "extensions:\n  builtin: [ncursesw]\nfiles:"),
      );
      expect(await dev.until(() => bootMarkers(dev).length === 2, 180), dev.err()).toBe(true);
      expect(dev.err()).toContain("dev: rebooting: extensions changed");
      expect(dev.out()).toContain("printed message v5-9p"); // the new boot has the edited file
    } finally {
      expect(await dev.stop()).toBe(130);
    }
  }, 600_000);

  it("4.x over the second serial port: five edits without a reboot", async () => {
    const manifest = write("x86/live.yaml", manifestFor("base:\n  release: 4.x\n  iso: Core-4.4.iso"));
    const message = write("x86/message.txt", "message v0\n");
    write("x86/greeter.env", "GREETING=hello\n");
    const dev = startDev(manifest, ["printed message v0"]);
    try {
      expect(
        await dev.until(() => /dev: \/printed message v0\/ [\d.]+ s after the start \(boot/.test(dev.err()), 180),
        dev.err(),
      ).toBe(true);
      expect(await dev.until(() => /mkbundle: dev receiver ready \(serial\)/.test(dev.out()), 30), dev.out()).toBe(
        true,
      );
      expect(dev.err()).toContain("dev: live updates over the second serial port (the base's kernel has no");
      // The boot's timeline, as mkbundle test prints it, once its services started and its --expect matched.
      expect(await dev.until(() => /dev: timeline/.test(dev.err()), 60), dev.err()).toBe(true);
      expect(dev.err()).toMatch(
        /dev: timeline \(software emulation\), seconds from QEMU's start:\n(dev: +[\d.]+ +.*\n)*dev: +[\d.]+ +service printer\n(dev: +[\d.]+ +.*\n)*dev: +[\d.]+ +expect \/printed message v0\/\n/,
      );
      const times = await fiveEdits(dev, message, "serial");
      measured["x86-4.x-serial"] = { editToConsoleMs: times, medianMs: median(times) };
      expect(bootMarkers(dev)).toHaveLength(1);
    } finally {
      expect(await dev.stop()).toBe(130);
    }
    // A built image of the same manifest has mkbundle-svc and no receiver: only dev's image does.
    const built = mkbundle([
      "build",
      manifest,
      "--mirror",
      join(fixturesDir(), "tinycore"),
      "--work-dir",
      join(dir, "wd"),
      "--out",
      join(dir, "out"),
    ]);
    expect(built.code, built.stderr).toBe(0);
    const listed = ["opt/mkbundle", "usr/local/bin"]
      .map((d) => mkbundle(["ls", built.stdout.trim(), "boot/core.gz", d]).stdout)
      .join("");
    expect(listed).toContain("usr/local/bin/mkbundle-svc");
    expect(listed).toContain("opt/mkbundle/services/printer.run");
    expect(listed).not.toContain("opt/mkbundle/dev");
  }, 600_000);
});
