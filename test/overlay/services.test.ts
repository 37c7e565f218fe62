// A service's supervisor and mkbundle-svc, run by busybox sh on the host (the console and log
// pointed at files, the state directories in a temporary one): restart: on-failure starts it
// again with a doubling backoff until it exits 0; restart: no leaves it down and says so;
// always restarts a service that exits 0 too; every start and exit is logged with its status
// and how long it ran; mkbundle-svc reports, restarts, stops (the command's whole process
// group, SIGKILL after stop_timeout) and starts services.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { controlScript, runScript, serviceScript } from "../../src/overlay/services.js";
import { parseEnvFile } from "../../src/manifest/env-file.js";
import { tempDir } from "../helpers/tmp.js";

const { dir } = tempDir("mkbundle-svc-");
type Service = Parameters<typeof serviceScript>[0];

// busybox's applets first on PATH (setsid, usleep, netstat as the guest has them).
const BIN = join(dir, "bin");
mkdirSync(BIN);
for (const applet of ["setsid", "usleep", "netstat", "sleep", "kill"])
  symlinkSync("/usr/bin/busybox", join(BIN, applet));
const ENV = { ...process.env, PATH: `${BIN}:${process.env["PATH"]}` };

/** The service's files as the guest has them, with the guest's paths moved under `dir`. */
function install(s: Omit<Service, "log">): { script: string; console: string; log: string } {
  const [console, log] = [join(dir, `${s.name}.console`), join(dir, `${s.name}.log`)];
  const guest = (text: string) =>
    text
      .replace("#!/bin/sh", "#!/usr/bin/busybox sh")
      .replaceAll("> /dev/console", `>> ${console}`)
      .replace(
        /^D=\S+ S=\S+( R=\S+)?$/m,
        (_, r: string | undefined) =>
          `D=${join(dir, "services")} S=${join(dir, "svc")}${r ? ` R=${join(dir, "ready")}` : ""}`,
      )
      .replaceAll("/tmp/mkbundle/ready", join(dir, "ready"));
  mkdirSync(join(dir, "services"), { recursive: true });
  const script = join(dir, "services", `${s.name}.sh`);
  writeFileSync(script, guest(serviceScript({ ...s, log })));
  writeFileSync(join(dir, "services", `${s.name}.run`), guest(runScript(s)));
  chmodSync(script, 0o755);
  chmodSync(join(dir, "services", `${s.name}.run`), 0o755);
  return { script, console, log };
}

/** The supervisor run to its end (or the timeout); what the console and the log got. */
function runService(
  name: string,
  run: string,
  restart: "no" | "on-failure" | "always",
  timeoutMs = 20_000,
  more: Partial<Service> = {},
) {
  const state = join(dir, `${name}.state`);
  const ready =
    more.ready && "command" in more.ready ? { command: more.ready.command.replaceAll("STATE", state) } : more.ready;
  const { script, console, log } = install({
    name,
    run: run.replaceAll("STATE", state),
    restart,
    ...more,
    ...(ready ? { ready } : {}),
  });
  try {
    execFileSync(script, { timeout: timeoutMs, stdio: "ignore", env: ENV });
  } catch {
    // always: killed by the timeout, as intended
  }
  // How long a run took is whole seconds by the clock: a run may straddle a second's edge.
  const seconds = (s: string) => s.replace(/after \d+ s/g, "after N s");
  return { console: seconds(readFileSync(console, "utf8")), log: seconds(readFileSync(log, "utf8")) };
}

const FAILS_TWICE =
  'n=$(cat STATE 2>/dev/null || echo 0); echo $((n + 1)) > STATE\necho "run $n"\n[ "$n" -ge 2 ] || exit 1';

describe("service restart policies, in busybox sh", () => {
  it("on-failure: restarted after 1 s and 2 s, then done; starts and exits logged", () => {
    const { console, log } = runService("flaky", FAILS_TWICE, "on-failure");
    expect(console.split("\n").filter(Boolean)).toEqual([
      "mkbundle: service flaky started",
      "mkbundle: service flaky exited with 1 after N s; restarting in 1 s (restart: on-failure)",
      "mkbundle: service flaky started",
      "mkbundle: service flaky exited with 1 after N s; restarting in 2 s (restart: on-failure)",
      "mkbundle: service flaky started",
      "mkbundle: service flaky exited with 0 after N s (restart: on-failure: done)",
    ]);
    expect(log).toContain("run 0\n");
    expect(log).toContain("run 2\n");
    expect(log).toContain("mkbundle: service flaky exited with 0 after N s (restart: on-failure: done)\n");
  });

  it("no: down after its first exit, and it says so", () => {
    const { console } = runService("once", "echo hi; exit 3", "no");
    expect(console).toBe(
      "mkbundle: service once started\nmkbundle: service once exited with 3 after N s (restart: no: it stays down)\n",
    );
  });

  it("always: a service that exits 0 is started again, the backoff doubling", () => {
    const { console } = runService("loop", "true", "always", 6_500);
    expect(console).toMatch(
      /^mkbundle: service loop started\nmkbundle: service loop exited with 0 after N s; restarting in 1 s \(restart: always\)\nmkbundle: service loop started\nmkbundle: service loop exited with 0 after N s; restarting in 2 s \(restart: always\)\nmkbundle: service loop started\nmkbundle: service loop exited with 0 after N s; restarting in 4 s \(restart: always\)\n/,
    );
  });

  it("environment: exported as given, quotes and all; ready: said once its command passes", () => {
    const { console, log } = runService("env", 'echo "value: $GREETING"; sleep 2; touch STATE; sleep 2', "no", 20_000, {
      environment: { GREETING: `it's "quoted" $HOME`, N: 5 },
      ready: { command: "[ -e STATE ]" },
    });
    expect(log).toContain(`value: it's "quoted" $HOME\n`);
    expect(console).toBe(
      [
        "mkbundle: service env started",
        "mkbundle: service env ready (its ready: command passed)",
        "mkbundle: service env exited with 0 after N s (restart: no: it stays down)",
        "",
      ].join("\n"),
    );
    expect(existsSync(join(dir, "ready", "env"))).toBe(false); // down again: ready for nobody
  });
});

describe("mkbundle-svc, in busybox sh", () => {
  const services: Service[] = [
    // Its child `sleep` is in the command's process group: stopping it must end that too.
    { name: "web", run: 'echo "up $$"; sleep 1000 & echo "child $!"; wait', log: "", restart: "no" },
    { name: "stubborn", run: "trap '' TERM; echo up; while :; do sleep 1; done", log: "", stop_timeout: 1 },
  ];
  const ctl = join(dir, "mkbundle-svc");
  const svc = (...args: string[]) => {
    const r = spawnSync(ctl, args, { encoding: "utf8", env: ENV, timeout: 30_000 });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };
  const until = (what: () => boolean, ms = 10_000) => {
    const end = Date.now() + ms;
    while (!what()) {
      if (Date.now() > end) throw new Error("timed out");
      spawnSync("sleep", ["0.1"]);
    }
  };
  /** Running: there, and not a zombie waiting for a parent to reap it. */
  const alive = (pid: number) => {
    const stat = existsSync(`/proc/${pid}/stat`) ? readFileSync(`/proc/${pid}/stat`, "utf8") : "";
    return stat !== "" && !/^\d+ \(.*\) Z/.test(stat);
  };

  it("status, restart, stop (the whole process group; SIGKILL after stop_timeout) and start", () => {
    const files = services.map((s) => install(s));
    writeFileSync(
      ctl,
      controlScript(services)
        .replace("#!/bin/sh", "#!/usr/bin/busybox sh")
        .replace(/^D=\S+ S=\S+$/m, `D=${join(dir, "services")} S=${join(dir, "svc")}`),
    );
    chmodSync(ctl, 0o755);
    for (const f of files) spawn(f.script, { env: ENV, stdio: "ignore", detached: true }).unref();
    const web = files[0]!;
    until(() => /child \d+/.test(existsSync(web.log) ? readFileSync(web.log, "utf8") : ""));
    const grandchild = Number(/child (\d+)/.exec(readFileSync(web.log, "utf8"))![1]);
    const first = svc("status", "web");
    expect(first.code).toBe(0);
    expect(first.out).toMatch(/^web: running, pid \d+, for \d+ s\n$/);

    const restarted = svc("restart", "web");
    expect(restarted.out).toBe("web: restarted\n");
    until(() => readFileSync(web.log, "utf8").match(/up \d+/g)!.length === 2);
    expect(alive(grandchild)).toBe(false);
    expect(readFileSync(web.console, "utf8")).toMatch(
      /service web started\n.*service web restarting: asked by mkbundle-svc after \d+ s\n.*service web started\n/,
    );
    expect(svc("status", "web").out).not.toBe(first.out);

    expect(svc("stop", "web").out).toBe("web: stopped\n");
    expect(readFileSync(web.console, "utf8")).toMatch(
      /service web stopped by mkbundle-svc after \d+ s \(status \d+\)\n$/,
    );
    const stopped = svc("status", "web");
    expect([stopped.code, stopped.out]).toEqual([3, "web: stopped (stopped)\n"]);

    const began = Date.now();
    const stubborn = svc("stop", "stubborn");
    expect(Date.now() - began).toBeGreaterThanOrEqual(1000);
    expect(stubborn.err).toBe("mkbundle-svc: stubborn did not stop within 1 s: killed\n");
    expect(stubborn.out).toBe("stubborn: stopped\n");

    expect(svc("start", "web").out).toBe("web: started\n");
    until(() => svc("status", "web").out.startsWith("web: running"));
    expect(svc("status").out).toMatch(/^web: running, pid \d+, for \d+ s\nstubborn: stopped \(stopped\)\n$/);
    svc("stop", "web");
    const unknown = svc("restart", "nope");
    expect([unknown.code, unknown.err]).toEqual([
      2,
      "mkbundle-svc: no service is named 'nope' (services: web stubborn)\n",
    ]);
    expect(svc("frobnicate").code).toBe(2);
  }, 60_000);
});

describe("env_file", () => {
  it("NAME=value lines, comments, export and quotes; values never expanded", () => {
    expect(parseEnvFile("# c\n\nA=1\nexport B = two words \nC='$HOME x'\nD=\"q\"\nE=\nF=a=b\n", "e.env")).toEqual({
      values: { A: "1", B: "two words", C: "$HOME x", D: "q", E: "", F: "a=b" },
    });
  });
  it("a malformed line is named by file and line", () => {
    expect(parseEnvFile("A=1\n1X=2\n", "e.env")).toEqual({
      problem: "e.env:2: not NAME=value (a name is letters, digits and _)",
    });
    expect(parseEnvFile("A='open\n", "e.env")).toEqual({ problem: "e.env:1: the value's ' is not closed on its line" });
    expect(parseEnvFile("A=\0", "e.env")).toEqual({ problem: "e.env: it holds a NUL byte (not a text file)" });
    expect(JSON.stringify(parseEnvFile("no equals\n", "e.env"))).toContain("e.env:1: not NAME=value");
  });
});
