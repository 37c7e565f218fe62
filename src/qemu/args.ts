// QEMU's command line for an image: CD-ROM, disk or direct kernel boot, BIOS or UEFI, serial console,
// user-mode networking with an e1000 and host forwards bound to 127.0.0.1 only.
import { usageError } from "../errors.js";
import { accelArgs, type Accel } from "./accel.js";
import { firmwareArgs, secureBootArgs } from "./ovmf.js";

export interface PortForward {
  host: number;
  guest: number;
}

export interface QemuSpec {
  iso?: string;
  /** Boot the image as a raw disk (a USB stick) instead of a CD; "scratch": writes go to a temporary overlay. */
  disk?: "scratch" | "kept";
  kernel?: { kernel: string; initrd: string; append: string };
  /** A data partition attached as another disk, read and written in place (persist:). */
  data?: string;
  /** UEFI: the OVMF image to boot with (ovmf.ts); BIOS (SeaBIOS) when absent. */
  firmware?: string;
  /** Secure Boot: the guest's own copy of a vars image with keys enrolled (firmware: a Secure Boot build). */
  secureVars?: string;
  memoryMb: number;
  ports: readonly PortForward[];
  accel: Accel;
  /**
   * run: the serial console on the terminal, with Ctrl-C a signal (not -nographic, whose
   * console passes Ctrl-C to the guest); test: headless, serial on stdout.
   */
  interactive: boolean;
}

export function qemuArgs(s: QemuSpec): string[] {
  const args = ["-m", String(s.memoryMb), "-no-reboot"];
  args.push(
    ...(s.interactive
      ? ["-display", "none", "-chardev", "stdio,id=console,signal=on", "-serial", "chardev:console", "-monitor", "none"]
      : ["-display", "none", "-serial", "stdio", "-monitor", "none"]),
  );
  args.push(...accelArgs(s.accel));
  if (s.firmware && s.secureVars) args.push(...secureBootArgs(s.firmware, s.secureVars));
  else if (s.firmware) args.push(...firmwareArgs(s.firmware));
  if (s.kernel) args.push("-kernel", s.kernel.kernel, "-initrd", s.kernel.initrd, "-append", s.kernel.append);
  else if (s.iso && s.disk)
    args.push(
      "-drive",
      `file=${s.iso.replaceAll(",", ",,")},format=raw${s.disk === "scratch" ? ",snapshot=on" : ""}`,
      "-boot",
      "c",
    );
  else if (s.iso) args.push("-cdrom", s.iso, "-boot", "d");
  // QEMU splits -drive options at commas: a comma in the path is doubled.
  if (s.data) args.push("-drive", `file=${s.data.replaceAll(",", ",,")},format=raw,if=ide,index=1`);
  const forwards = s.ports.map((p) => `,hostfwd=tcp:127.0.0.1:${p.host}-:${p.guest}`).join("");
  args.push("-netdev", `user,id=net0${forwards}`, "-device", "e1000,netdev=net0");
  return args;
}

export function parsePort(spec: string): PortForward {
  const m = /^(\d{1,5}):(\d{1,5})$/.exec(spec);
  const [host, guest] = m ? [Number(m[1]), Number(m[2])] : [NaN, NaN];
  if (!m || host < 1 || host > 65535 || guest < 1 || guest > 65535)
    throw usageError(`--port '${spec}' is not HOST:GUEST (ports 1-65535)`, "e.g. --port 18080:80");
  return { host, guest };
}
