// How a boot test ends when the guest kernel panics: at once, naming the panic (a real 4.x
// kernel given no root), and, for the one panic that software emulation itself causes (the
// IO-APIC timer check on a busy host), by booting again.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { memoryLog, silentLog } from "../../src/log.js";
import { chooseAccel } from "../../src/qemu/accel.js";
import { hostQemu } from "../helpers/qemu.js";
import { findQemu } from "../../src/qemu/boot.js";
import { bootTest, type BootTestOptions } from "../../src/qemu/boot-test.js";
import { fixturesDir } from "../helpers/paths.js";
import { standIn } from "../helpers/qemu-stand-in.js";
import { tempDir } from "../helpers/tmp.js";
import { TINY_KERNEL_MARKER, tinyIso, tinyKernel } from "../helpers/tiny-kernel.js";

const { dir } = tempDir("mkbundle-boot-test-");
const TIMER_PANIC =
  "Kernel panic - not syncing: IO-APIC + timer doesn't work!  Boot with apic=debug and send a report.  Then try booting with the 'noapic' option.";

const options = (o: Partial<BootTestOptions> & Pick<BootTestOptions, "qemu" | "plan">): BootTestOptions => ({
  memoryMb: 256,
  ports: [],
  mode: "tcg",
  accel: { accel: "tcg", why: "software emulation (test)" },
  expect: [],
  http: [],
  timeoutSeconds: 600,
  log: silentLog,
  ...o,
});

describe("a guest kernel that panics", () => {
  it("ends the boot at once, naming the panic, instead of waiting for the timeout", async () => {
    // The real 4.x kernel with an initrd that holds no archive: nothing to run, no root to mount.
    const kernel = join(fixturesDir(), "tinycore", "4.x", "x86", "release", "distribution_files", "vmlinuz");
    const initrd = join(dir, "zeros.img");
    writeFileSync(initrd, Buffer.alloc(4096));
    const host = hostQemu();
    const qemu = findQemu(host);
    const r = await bootTest(
      options({
        qemu,
        accel: await chooseAccel("auto", qemu, host.kvmDevice),
        mode: "auto",
        plan: {
          iso: "",
          kernel: { kernel, initrd, append: "console=ttyS0" },
          bootLine: ["console=ttyS0"],
          serial: true,
        },
        expect: [/this line never appears/],
      }),
    );
    expect(r.passed).toBe(false);
    expect(r.exit, r.console.slice(-2000)).toMatch(
      /^the guest kernel panicked: Kernel panic - not syncing: VFS: Unable to mount root fs/,
    );
    expect(r.seconds).toBeLessThan(600);
    expect(r.console).toContain("Kernel panic - not syncing");
  }, 240_000);

  it("boots again when software emulation fails the kernel's timer check, and says so", async () => {
    const iso = await tinyIso(dir, "tiny", tinyKernel("print"));
    const count = join(dir, "boots");
    // The first two boots fail the timer check the way CI saw it; the third is the real QEMU.
    const qemu = standIn(
      dir,
      "timer-check",
      `n=$(cat ${count} 2>/dev/null || echo 0); echo $((n + 1)) > ${count}
if [ "$n" -lt 2 ]; then echo "${TIMER_PANIC}"; exec sleep 600; fi
exec qemu-system-x86_64 "$@"
`,
    );
    const log = memoryLog();
    const r = await bootTest(
      options({
        qemu,
        plan: { iso, bootLine: [], serial: true },
        expect: [new RegExp(TINY_KERNEL_MARKER)],
        timeoutSeconds: 120,
        log,
      }),
    );
    expect(r.passed, r.console.slice(-2000)).toBe(true);
    const warnings = log.lines.filter((l) => l.startsWith("warning: "));
    expect(warnings).toHaveLength(2);
    expect(warnings[1]).toContain("failed its IO-APIC timer check under software emulation");
    expect(warnings[1]).toContain("booting again, 2 of 2");
  }, 240_000);

  it("gives up after two boots again, with the panic as the reason", async () => {
    const qemu = standIn(dir, "timer-check-always", `echo "${TIMER_PANIC}"; exec sleep 600\n`);
    const log = memoryLog();
    const r = await bootTest(
      options({
        qemu,
        plan: { iso: join(dir, "unused.iso"), bootLine: [], serial: true },
        expect: [/never/],
        log,
      }),
    );
    expect(r.passed).toBe(false);
    expect(log.lines.filter((l) => l.startsWith("warning: "))).toHaveLength(2);
    expect(r.exit).toBe(`the guest kernel panicked: ${TIMER_PANIC}`);
  }, 60_000);
});
