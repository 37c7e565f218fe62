// The accelerator: KVM only when a test guest runs under it, software emulation otherwise,
// and a boot that fails under KVM the way broken hosts fail restarted once under TCG. The
// stand-ins for QEMU fail under -accel kvm as broken hosts do and are the real QEMU otherwise.
import { join } from "node:path";
import { readFileSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { PROBE_MARKER } from "../../src/qemu/kvm-probe.js";
import { mkbundleAsync } from "../helpers/cli.js";
import { brokenKvm, fakeKvmDevice, standIn } from "../helpers/qemu-stand-in.js";
import { tempDir } from "../helpers/tmp.js";
import { TINY_KERNEL_MARKER, tinyIso, tinyKernel } from "../helpers/tiny-kernel.js";

const { dir } = tempDir("mkbundle-accel-");
/** An ISO whose kernel prints a line and halts: the guest each boot here runs, in a fraction of a second. */
let iso: string | undefined;

describe("choosing the accelerator", () => {
  const env = () => ({ MKBUNDLE_KVM_DEVICE: fakeKvmDevice(dir) });
  const boot = async (qemu: string, extra: string[] = [], more: Record<string, string> = {}) =>
    mkbundleAsync(
      [
        "test",
        (iso ??= await tinyIso(dir, "tiny", tinyKernel("print"))),
        "--expect",
        TINY_KERNEL_MARKER,
        "--timeout",
        "120",
        "--out",
        join(dir, "out-accel"),
        ...extra,
      ],
      { env: { ...env(), MKBUNDLE_QEMU: qemu, ...more } },
    );

  it("auto: QEMU aborting under KVM (as on this kind of host) means software emulation, and says why", async () => {
    const r = await boot(
      brokenKvm(dir, "kvm-abort", `echo "qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69" >&2; exit 134`),
    );
    expect(r.code, r.stderr.slice(-2000)).toBe(0);
    expect(r.stderr).toContain(
      "QEMU under software emulation: KVM does not work here (QEMU said: failed to set MSR 0x10a to 0x69)",
    );
  }, 180_000);

  it("auto: a KVM guest that runs nothing means software emulation", async () => {
    const r = await boot(brokenKvm(dir, "kvm-silent", "exec sleep 600"));
    expect(r.code, r.stderr.slice(-2000)).toBe(0);
    expect(r.stderr).toContain("KVM does not work here (a test guest printed nothing within 3 s)");
  }, 180_000);

  it("auto: a KVM internal error during the boot restarts it once under software emulation", async () => {
    const qemu = brokenKvm(
      dir,
      "kvm-internal",
      `case " $* " in *" -bios "*) echo ${PROBE_MARKER}; exit 0;; esac; echo "KVM internal error. Suberror: 1" >&2; echo "emulation failure" >&2; exec sleep 600`,
    );
    const r = await boot(qemu);
    expect(r.code, r.stderr.slice(-2000)).toBe(0);
    expect(r.stderr).toContain("QEMU with KVM (a test guest ran in");
    expect(r.stderr).toContain(
      "warning: QEMU reported a KVM failure (KVM internal error. Suberror: 1): restarted under software emulation",
    );
  }, 180_000);

  it("auto: a KVM guest that stays silent while it should print is restarted under software emulation", async () => {
    const qemu = brokenKvm(
      dir,
      "kvm-mute",
      `case " $* " in *" -bios "*) echo ${PROBE_MARKER}; exit 0;; esac; exec sleep 600`,
    );
    const r = await boot(qemu, ["--timeout", "40"]);
    expect(r.code, r.stderr.slice(-2000)).toBe(0);
    expect(r.stderr).toContain(
      "warning: the guest printed nothing in 10 s under KVM: restarted under software emulation",
    );
  }, 180_000);

  it("--accel kvm where KVM fails: a clear error, exit 1; --accel tcg and MKBUNDLE_ACCEL=tcg never probe", async () => {
    const log = join(dir, "accel-calls.log");
    const qemu = standIn(
      dir,
      "accel-log",
      `echo "$*" >> ${log}\ncase " $* " in *" -accel kvm "*) echo "qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69" >&2; exit 134;; esac\necho "MKBUNDLE-TINY-KERNEL"\nexec sleep 600\n`,
    );
    const forced = await boot(qemu, ["--accel", "kvm"]);
    expect(forced.code).toBe(1);
    expect(forced.stderr).toContain(
      "--accel kvm: KVM does not work here: QEMU said: failed to set MSR 0x10a to 0x69 (use --accel tcg (or auto))",
    );
    expect(forced.stderr).not.toMatch(/\n\s+at /);
    writeFileSync(log, "");
    expect((await boot(qemu, ["--accel", "tcg"])).code).toBe(0);
    expect((await boot(qemu, [], { MKBUNDLE_ACCEL: "tcg" })).code).toBe(0);
    const calls = readFileSync(log, "utf8").trim().split("\n");
    expect(calls).toHaveLength(2);
    for (const c of calls) expect(c).toMatch(/-accel tcg -cdrom /);
    const bogus = await boot(qemu, [], { MKBUNDLE_ACCEL: "fast" });
    expect(bogus.code).toBe(2);
    expect(bogus.stderr).toContain(
      "MKBUNDLE_ACCEL: MKBUNDLE_ACCEL 'fast' is not an accelerator (use auto, kvm or tcg)",
    );
  }, 180_000);
});
