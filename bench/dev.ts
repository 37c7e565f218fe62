// `npm run bench -- dev`: the dev loop on the fixture. `mkbundle dev` boots a manifest with two
// builtin extensions and a service that prints a file's content; the file is saved 5 times
// (each a live update: the file sent into the running guest, the service restarted), then 3
// times together with the manifest's version (each a rebuild and reboot, as every save was
// before live updates). Reports, as medians: save -> the new content on the console, live and
// rebooting, and their ratio (target: live <= 5 s).
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const BIN = resolve(fileURLToPath(import.meta.url), "../../src/cli/main.js");
const EDITS = 5;
const REBOOTS = 3;

function fixtures(): string {
  const dir =
    process.env["MKBUNDLE_FIXTURES"] ?? resolve(fileURLToPath(import.meta.url), "../../../../shared/fixtures");
  if (!existsSync(dir)) throw new Error(`fixtures not found at ${dir}; set MKBUNDLE_FIXTURES`);
  return dir;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function benchDev(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), "mkbundle-bench-dev-"));
  try {
    mkdirSync(join(work, "app"));
    const manifest = join(work, "app/app.yaml");
    writeFileSync(
      manifest,
      "name: bench-dev\nversion: 0.1.0\nbase:\n  iso: Core-4.4.iso\nextensions:\n  builtin: [bash, dmidecode]\n" +
        "files:\n  - path: /etc/marker\n    source: marker.txt\nservices:\n  - name: show\n" +
        '    run: echo "BENCH-MARKER $(cat /etc/marker)"\n    log: /dev/ttyS0\nboot:\n  append: [console=ttyS0]\n',
    );
    const marker = join(work, "app/marker.txt");
    writeFileSync(marker, "edit-0\n");
    const expects = Array.from({ length: EDITS + REBOOTS + 1 }, (_, i) => [
      "--expect",
      `BENCH-MARKER edit-${i}\\b`,
    ]).flat();
    const child = spawn(
      process.execPath,
      [BIN, "dev", manifest, ...expects, "--mirror", join(fixtures(), "tinycore"), "--work-dir", join(work, "wd")],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const waitFor = async (re: RegExp) => {
      for (let i = 0; i < 1200 && !re.test(stderr); i++) await new Promise((r) => setTimeout(r, 100));
      const m = re.exec(stderr);
      if (!m) throw new Error(`dev never said ${re.source}:\n${stderr}`);
      return m;
    };
    const live = (i: number) =>
      new RegExp(`dev: /BENCH-MARKER edit-${i}\\\\b/ ([\\d.]+) s after the save \\(live update \\d+, sent ([\\d.]+) s`);
    const rebooted = (i: number) =>
      new RegExp(
        `dev: /BENCH-MARKER edit-${i}\\\\b/ ([\\d.]+) s after the (?:save|start) \\(boot ([\\d.]+) s, overlay ready ([\\d.]+) s`,
      );
    const first = await waitFor(rebooted(0));
    const liveTimes: number[] = [];
    for (let i = 1; i <= EDITS; i++) {
      writeFileSync(marker, `edit-${i}\n`);
      liveTimes.push(Number((await waitFor(live(i)))[1]));
    }
    const rebootTimes: number[] = [];
    for (let i = EDITS + 1; i <= EDITS + REBOOTS; i++) {
      writeFileSync(manifest, readFileSync(manifest, "utf8").replace(/^version: .*$/m, `version: 0.1.${i}`));
      writeFileSync(marker, `edit-${i}\n`);
      rebootTimes.push(Number((await waitFor(rebooted(i)))[1]));
    }
    child.kill("SIGINT");
    const accel = /dev: (QEMU [^\n]*)/.exec(stderr)?.[1] ?? "";
    const channel = /dev: live updates over ([^\n]*)/.exec(stderr)?.[1] ?? "";
    const [l, r] = [median(liveTimes), median(rebootTimes)];
    console.log(`\n${accel}\n  live updates over ${channel}`);
    console.log(`  first boot: marker ${Number(first[1]).toFixed(1)} s after the start`);
    console.log(`  save -> new content, live update: median ${l.toFixed(1)} s over ${EDITS} saves (target <= 5 s)`);
    console.log(`  save -> new content, rebuild and reboot: median ${r.toFixed(1)} s over ${REBOOTS} saves`);
    console.log(`  live / reboot: ${(l / r).toFixed(2)}x`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
