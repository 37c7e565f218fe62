// Images run like containers, on the 4.x fixture: two dev guests started with run -d under
// two names, ps shows both running, exec returns a guest command's output and exit status
// (through the exec agent on the second serial port), logs shows each guest's own console,
// stop ends each within its timeout, a third guest's QEMU killed by hand shows as exited
// (137) in ps, never as running; a prod image of the same manifest has no exec agent.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { buildOnFixtures, mkbundle } from "../helpers/cli.js";
import { stripAnsi } from "../../src/qemu/ansi.js";
import { tempDir } from "../helpers/tmp.js";

const { dir, write } = tempDir("mkbundle-bg-");
const wd = join(dir, "wd");
const cli = (command: string, ...args: string[]) => mkbundle([command, "--work-dir", wd, ...args]);
const manifest = (flavour: string) =>
  write(
    `bg-${flavour}.yaml`,
    `name: bg\nversion: 1.0.0\nflavour: ${flavour}\nbase:\n  release: 4.x\n  iso: Core-4.4.iso\n` +
      `services:\n  - name: web\n    run: |\n      echo "web up"\n      exec sleep 100000\n    log: /dev/console\n` +
      "boot:\n  append: [console=ttyS0]\n",
  );
/** The manifest built in this flavour: its ISO. */
async function build(flavour: string): Promise<string> {
  const r = await buildOnFixtures(manifest(flavour), { workDir: wd, out: join(dir, `out-${flavour}`) });
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.trim();
}
afterAll(() => {
  cli("stop", "one", "two", "three", "--timeout", "1");
});

describe("run -d, ps, logs, exec, stop", () => {
  it("two named guests: each answers exec, has its own console, and is stopped or seen dead", async () => {
    const iso = await build("dev");

    for (const name of ["one", "two"]) {
      const r = cli("run", "-d", iso, "--name", name, "--accel", "tcg");
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.trim()).toBe(name);
    }
    expect(cli("run", "-d", iso, "--name", "one").stderr).toMatch(/a guest named one is running/);
    const ps = cli("ps");
    expect(ps.stdout).toMatch(
      /^NAME +STATUS +ACCEL +PORTS +IMAGE\none +running, up \d+ s +tcg +- +\S+bg-dev-1\.0\.0\.iso\ntwo +running/,
    );

    // exec: the command's own output and exit status, once the agent is up.
    const r = cli("exec", "one", "--", "echo from one > /dev/console; mkbundle-svc status web; exit 3");
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/^web: running, pid \d+, for \d+ s, ready\n$/);
    const two = cli("exec", "two", "--", "uname -m; echo from two > /dev/console");
    expect([two.code, two.stdout]).toEqual([0, "i686\n"]);
    // logs: each guest's own console.
    const [logOne, logTwo] = [stripAnsi(cli("logs", "one").stdout), stripAnsi(cli("logs", "two").stdout)];
    for (const log of [logOne, logTwo])
      expect(log).toMatch(/Booting Core[\s\S]*mkbundle: exec agent ready[\s\S]*web up/);
    expect(logOne).toContain("from one");
    expect(logOne).not.toContain("from two");
    expect(logTwo).toContain("from two");

    // stop: within its timeout (Tiny Core runs no ACPI daemon: the power-down is not heard, so it is killed).
    const began = Date.now();
    const stop = cli("stop", "one", "--timeout", "3");
    expect(stop.code, stop.stderr).toBe(0);
    expect(stop.stdout).toMatch(/^one: (powered off|killed after 3 s)\n$/);
    expect(Date.now() - began).toBeLessThan(30_000);
    // A QEMU killed by hand: exited, with its status.
    expect(cli("run", "-d", iso, "--name", "three", "--accel", "tcg").code).toBe(0);
    process.kill(Number(readFileSync(join(wd, "guests", "three", "qemu.pid"), "utf8")), "SIGKILL");
    let after = "";
    for (let i = 0; i < 50 && !/three +exited/.test(after); i++) {
      after = cli("ps").stdout;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
    }
    expect(after).toMatch(/three +exited \(137, killed\)/);
    expect(after).toMatch(/two +running/);
    const stopTwo = cli("stop", "two", "three", "--timeout", "3");
    expect(stopTwo.stdout).toMatch(/^two: (powered off|killed after 3 s)\nthree: had already exited\n$/);
    after = cli("ps").stdout;
    expect(after).not.toContain("running");
    expect(JSON.parse(cli("ps", "--json").stdout)).toMatchObject([
      { name: "one", state: "exited" },
      { name: "three", state: "exited", status: 137 },
      { name: "two", state: "exited" },
    ]);
    const gone = cli("exec", "two", "--", "true");
    expect([gone.code, gone.stderr.trim()]).toEqual([
      2,
      "mkbundle: guest two is not running (it exited) (mkbundle ps)",
    ]);
    expect(cli("logs", "four").stderr).toMatch(/no guest is named four/);
  }, 300_000);

  it("a prod image of the same manifest has no exec agent, but has mkbundle-svc", async () => {
    const iso = await build("prod");
    const opt = mkbundle(["ls", iso, "boot/core.gz", "opt/mkbundle"]).stdout;
    expect(opt).toContain("opt/mkbundle/services/web.sh");
    expect(opt).not.toContain("opt/mkbundle/exec");
    expect(mkbundle(["cat", iso, "boot/core.gz", "opt/bootlocal.sh"]).stdout).not.toContain("agent");
  }, 120_000);
});
