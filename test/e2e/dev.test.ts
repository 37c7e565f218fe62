// `mkbundle dev`: the guest boots with the overlay, and saving a file the manifest reads
// rebuilds the overlay and restarts the guest, which shows the new content, all without
// restarting the command. Ctrl-C leaves no QEMU.
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BIN } from "../helpers/cli.js";
import { fixturesDir } from "../helpers/paths.js";
import { sh } from "../helpers/run.js";
import { tempDir } from "../helpers/tmp.js";

const { dir, write } = tempDir("mkbundle-dev-e2e-");

describe("mkbundle dev", () => {
  it("reboots with the new content when a file the manifest reads is saved; Ctrl-C ends it all", async () => {
    const manifest = write(
      "app/app.yaml",
      `name: devloop
version: 0.1.0
base:
  iso: Core-4.4.iso
files:
  - path: /etc/marker
    source: marker.txt
services:
  - name: show
    run: echo "DEV-MARKER $(cat /etc/marker)"
    log: /dev/ttyS0
boot:
  append: [console=ttyS0]
`,
    );
    const marker = write("app/marker.txt", "first\n");
    const child = spawn(
      process.execPath,
      [
        BIN,
        "dev",
        manifest,
        "--expect",
        "DEV-MARKER first",
        "--expect",
        "DEV-MARKER second",
        "--accel",
        "tcg",
        "--mirror",
        join(fixturesDir(), "tinycore"),
        "--work-dir",
        join(dir, "wd"),
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const until = async (what: () => boolean, seconds: number) => {
      for (let i = 0; i < seconds * 10 && !what() && child.exitCode === null; i++)
        await new Promise((r) => setTimeout(r, 100));
      return what();
    };
    try {
      // The first boot follows the start, not a save.
      expect(await until(() => /dev: \/DEV-MARKER first\/ [\d.]+ s after the start/.test(stderr), 120), stderr).toBe(
        true,
      );
      expect(stderr).toMatch(/dev: overlay built \(\d+ bytes\) [\d.]+ s after the start; booting/);
      expect(stdout).toContain("DEV-MARKER first");
      writeFileSync(marker, "second\n");
      expect(await until(() => /dev: \/DEV-MARKER second\/ [\d.]+ s after the save/.test(stderr), 120), stderr).toBe(
        true,
      );
      expect(stdout).toContain("DEV-MARKER second");
      expect(stderr).toContain(`dev: changed: ${marker}`);
      expect(stderr).toMatch(/dev: overlay rebuilt \(\d+ bytes\) [\d.]+ s after the save; booting/);
      expect(child.exitCode).toBe(null); // one command all along
    } finally {
      child.kill("SIGINT");
    }
    expect(await new Promise<number | null>((r) => child.on("exit", (c) => r(c)))).toBe(130);
    await new Promise((r) => setTimeout(r, 500));
    expect(sh("ps -eo stat=,args= | grep '[m]kbundle-dev-' | grep -v '^Z' || true").toString().trim()).toBe("");
  }, 300_000);
});
