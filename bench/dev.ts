// `npm run bench -- dev`: the build-and-boot loop on the fixture. `mkbundle dev` boots a
// manifest with two builtin extensions and a service that prints a file's content; the file
// is saved 5 times. Reports, as medians: save -> overlay rebuilt, save -> the new content on
// the console, and that minus the guest's own boot time (targets: <= 0.5 s and <= 1.5 s).
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const BIN = resolve(fileURLToPath(import.meta.url), "../../src/cli/main.js");
const EDITS = 5;

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
    const expects = Array.from({ length: EDITS + 1 }, (_, i) => ["--expect", `BENCH-MARKER edit-${i}\\b`]).flat();
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
    const parse = (m: RegExpExecArray) => ({ fromSave: Number(m[1]), boot: Number(m[2]), overlay: Number(m[3]) });
    const line = (i: number) =>
      new RegExp(
        `dev: /BENCH-MARKER edit-${i}\\\\b/ ([\\d.]+) s after the save \\(boot ([\\d.]+) s, overlay ready ([\\d.]+) s after the save\\)`,
      );
    const first = parse(await waitFor(line(0)));
    const edits = [];
    for (let i = 1; i <= EDITS; i++) {
      writeFileSync(marker, `edit-${i}\n`);
      edits.push(parse(await waitFor(line(i))));
    }
    child.kill("SIGINT");
    const accel = /dev: (QEMU [^\n]*)/.exec(stderr)?.[1] ?? "";
    const overlay = median(edits.map((e) => e.overlay));
    const toMarker = median(edits.map((e) => e.fromSave));
    const boot = median(edits.map((e) => e.boot));
    console.log(`\n${accel}`);
    console.log(
      `  first boot: marker ${first.fromSave.toFixed(1)} s after start (guest boot ${first.boot.toFixed(1)} s)`,
    );
    console.log(`  save -> overlay rebuilt:   median ${overlay.toFixed(2)} s over ${EDITS} saves (target <= 0.5 s)`);
    console.log(
      `  save -> marker on console: median ${toMarker.toFixed(1)} s; the guest's own boot ${boot.toFixed(1)} s; difference ${(toMarker - boot).toFixed(1)} s (target <= 1.5 s)`,
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
