// QEMU's command line for an image: CD-ROM or direct kernel boot, serial console,
// user-mode networking with an e1000 and host forwards bound to 127.0.0.1 only.
import { spawnSync } from "node:child_process";
import { constants, accessSync } from "node:fs";

export interface PortForward {
  host: number;
  guest: number;
}

export interface QemuSpec {
  iso?: string;
  kernel?: { kernel: string; initrd: string; append: string };
  memoryMb: number;
  ports: readonly PortForward[];
  kvm: boolean;
  /** run: the console on the terminal (-nographic); test: headless, serial on stdout. */
  interactive: boolean;
}

/** qemu-system-x86_64, or MKBUNDLE_QEMU (a custom build, or a stand-in for tests). */
export const QEMU_BINARY = process.env["MKBUNDLE_QEMU"] || "qemu-system-x86_64";

export function qemuArgs(s: QemuSpec): string[] {
  const args = ["-m", String(s.memoryMb), "-no-reboot"];
  args.push(...(s.interactive ? ["-nographic"] : ["-display", "none", "-serial", "stdio", "-monitor", "none"]));
  args.push(...(s.kvm ? ["-enable-kvm", "-cpu", "host"] : ["-accel", "tcg"]));
  if (s.kernel) args.push("-kernel", s.kernel.kernel, "-initrd", s.kernel.initrd, "-append", s.kernel.append);
  else if (s.iso) args.push("-cdrom", s.iso, "-boot", "d");
  const forwards = s.ports.map((p) => `,hostfwd=tcp:127.0.0.1:${p.host}-:${p.guest}`).join("");
  args.push("-netdev", `user,id=net0${forwards}`, "-device", "e1000,netdev=net0");
  return args;
}

export function parsePort(spec: string): PortForward {
  const m = /^(\d{1,5}):(\d{1,5})$/.exec(spec);
  const [host, guest] = m ? [Number(m[1]), Number(m[2])] : [NaN, NaN];
  if (!m || host < 1 || host > 65535 || guest < 1 || guest > 65535) throw new Error(`'${spec}' is not HOST:GUEST (ports 1-65535), e.g. 18080:80`);
  return { host, guest };
}

/**
 * KVM works when /dev/kvm opens and a paused KVM guest survives its start: some hosts
 * (nested or restricted) expose /dev/kvm but abort when the vCPU is set up.
 */
export function kvmUsable(): boolean {
  try {
    accessSync("/dev/kvm", constants.R_OK | constants.W_OK);
  } catch {
    return false;
  }
  const probe = spawnSync(QEMU_BINARY, ["-accel", "kvm", "-cpu", "host", "-m", "32", "-display", "none", "-serial", "none", "-monitor", "none", "-nodefaults", "-no-reboot", "-S"], { timeout: 1500, stdio: "ignore" });
  return (probe.error as NodeJS.ErrnoException | undefined)?.code === "ETIMEDOUT";
}
