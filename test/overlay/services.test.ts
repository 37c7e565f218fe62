// A service's script, run by busybox sh on the host (its console and log pointed at files):
// restart: on-failure starts it again with a doubling backoff until it exits 0; restart: no
// leaves it down and says so; always restarts a service that exits 0 too; every start and
// exit is logged with its status and how long it ran.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { serviceScript } from "../../src/overlay/services.js";
import { tempDir } from "../helpers/tmp.js";

const { dir } = tempDir("mkbundle-svc-");

/** The script for `run`, with /dev/console as a file; what the console and the log got. */
function runService(
  name: string,
  run: string,
  restart: "no" | "on-failure" | "always",
  timeoutMs = 20_000,
  more: Partial<Parameters<typeof serviceScript>[0]> = {},
) {
  const [console, log, state] = [join(dir, `${name}.console`), join(dir, `${name}.log`), join(dir, `${name}.state`)];
  const script = serviceScript({ name, run: run.replaceAll("STATE", state), log, restart, ...more })
    .replaceAll("> /dev/console", `>> ${console}`)
    .replaceAll("/tmp/mkbundle/ready", join(dir, "ready"))
    .replaceAll("STATE", state);
  const file = join(dir, `${name}.sh`);
  writeFileSync(file, script);
  try {
    execFileSync("busybox", ["sh", file], { timeout: timeoutMs, stdio: "ignore" });
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
