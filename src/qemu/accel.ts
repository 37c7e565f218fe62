// Which accelerator a boot uses: --accel auto|kvm|tcg (or MKBUNDLE_ACCEL). auto uses KVM
// only when a test guest really runs under it (kvm-probe.ts); otherwise software emulation,
// with the reason in one line.
import { accessSync, constants, existsSync } from "node:fs";
import { MkError } from "../errors.js";
import { runProbe } from "./kvm-probe.js";

export type Accel = "kvm" | "tcg";
export type AccelMode = "auto" | Accel;
export const ACCEL_MODES: readonly AccelMode[] = ["auto", "kvm", "tcg"];

/** QEMU's arguments for an accelerator: KVM with the host's CPU, or TCG. */
export const accelArgs = (a: Accel): string[] => (a === "kvm" ? ["-accel", "kvm", "-cpu", "host"] : ["-accel", "tcg"]);

export interface AccelChoice {
  accel: Accel;
  /** One line for the user: what was chosen and why. */
  why: string;
}

/** Why KVM cannot be used at all, or undefined when its device is there and usable. */
function kvmDeviceProblem(device: string): string | undefined {
  if (process.platform !== "linux") return `KVM is Linux-only (this is ${process.platform})`;
  if (!existsSync(device)) return `${device} does not exist`;
  try {
    accessSync(device, constants.R_OK | constants.W_OK);
  } catch {
    return `${device} is not readable and writable by this user (add it to the kvm group)`;
  }
  return undefined;
}

/** `kvmDevice`: /dev/kvm, or the configuration's MKBUNDLE_KVM_DEVICE. */
export async function chooseAccel(mode: AccelMode, qemu: string, kvmDevice: string): Promise<AccelChoice> {
  if (mode === "tcg") return { accel: "tcg", why: "QEMU under software emulation (--accel tcg)" };
  const problem = kvmDeviceProblem(kvmDevice);
  if (!problem) {
    const probe = await runProbe(qemu, accelArgs("kvm"));
    if (probe.ok) return { accel: "kvm", why: `QEMU with KVM (a test guest ran in ${probe.seconds.toFixed(1)} s)` };
    if (mode === "kvm")
      throw new MkError("boot", `--accel kvm: KVM does not work here: ${probe.why}`, {
        hint: "use --accel tcg (or auto)",
      });
    return {
      accel: "tcg",
      why: `QEMU under software emulation: KVM does not work here (${probe.why}); a Tiny Core boot takes 10-30 s`,
    };
  }
  if (mode === "kvm") throw new MkError("boot", `--accel kvm: ${problem}`, { hint: "use --accel tcg (or auto)" });
  return { accel: "tcg", why: `QEMU under software emulation (${problem}); a Tiny Core boot takes 10-30 s` };
}
