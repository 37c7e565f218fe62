// `mkbundle run` and `mkbundle test` as stages: plan the boot (failing at once on a wrong
// file), choose the accelerator, and boot: interactively, or headless with checks.
import { execFileSync } from "node:child_process";
import { accessSync, constants, copyFileSync, rmSync, statSync } from "node:fs";
import { delimiter, join, resolve } from "node:path";
import { MkError } from "../errors.js";
import type { ReadLimits } from "../formats/limits.js";
import type { Log } from "../log.js";
import { chooseAccel, type AccelChoice, type AccelMode } from "./accel.js";
import { qemuArgs, type PortForward } from "./args.js";
import { bootTest, type BootTestResult } from "./boot-test.js";
import type { HttpCheck } from "./checks.js";
import { spawnGuarded } from "./guard.js";
import { onInterrupt } from "../io/cleanup.js";
import { planBoot, type BootPlan } from "./image.js";
import { findOvmf, findSecureBootOvmf } from "./ovmf.js";
import { tempPath } from "../io/temp.js";
import { checkHostPorts } from "./ports.js";

export interface BootOptions {
  image: string;
  kernel?: boolean;
  disk?: boolean;
  /** A data partition to attach as a second disk (persist:), written in place. */
  data?: string;
  /** Boot under UEFI (OVMF) instead of a BIOS. */
  uefi?: boolean;
  /** Secure Boot on, with this vars template's keys (implies UEFI). */
  secureBoot?: string;
  append: readonly string[];
  ports: readonly PortForward[];
  memoryMb: number;
  mode: AccelMode;
  host: QemuHost;
  log: Log;
  /** What opening the image (an ISO) may cost. */
  limits: ReadLimits;
}

/** Where QEMU and its firmware are on this machine (the configuration's MKBUNDLE_QEMU, PATH, ...). */
export interface QemuHost {
  /** The QEMU binary: a name looked for on `searchPath`, or a path. */
  binary: string;
  /** PATH: directories separated as the platform separates them. */
  searchPath: string;
  kvmDevice: string;
  /** MKBUNDLE_OVMF, when set: the UEFI firmware to use instead of searching for it. */
  ovmf?: string | undefined;
}

/** The QEMU binary, found on the search path (or as given), or a clear error. */
export function findQemu(host: QemuHost): string {
  const bin = host.binary;
  const candidates = bin.includes("/")
    ? [bin]
    : host.searchPath
        .split(delimiter)
        .filter(Boolean)
        .map((d) => join(d, bin));
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // not here
    }
  }
  throw new MkError("boot", "QEMU is not installed", {
    file: bin,
    hint: "install it: apt-get install qemu-system-x86 (Debian/Ubuntu), brew install qemu (macOS); MKBUNDLE_QEMU names another binary",
  });
}

/** The boot planned, QEMU found and the accelerator chosen, or a clear error before anything starts. */
export async function prepareBoot(o: BootOptions): Promise<{ qemu: string; plan: BootPlan; accel: AccelChoice }> {
  if (!Number.isInteger(o.memoryMb) || o.memoryMb < 64)
    throw new MkError("usage", `--memory ${o.memoryMb}: give at least 64 (MB)`);
  await checkHostPorts(o.ports);
  if (o.secureBoot && o.kernel)
    throw new MkError("usage", "--secure-boot checks what the firmware starts: boot the ISO, not its kernel directly", {
      hint: "leave out --kernel and --append",
    });
  const firmware = o.secureBoot
    ? findSecureBootOvmf(o.host.ovmf, o.secureBoot)
    : o.uefi
      ? findOvmf(o.host.ovmf)
      : undefined;
  const plan = await planBoot(o.image, {
    ...(o.kernel ? { kernel: true } : {}),
    ...(o.disk ? { disk: true } : {}),
    ...(firmware ? { firmware } : {}),
    append: o.append,
    limits: o.limits,
  });
  if (o.data) plan.data = dataDisk(o.data, o.image);
  if (o.secureBoot) {
    // The firmware writes its variables: the guest gets a copy, never the template.
    plan.secureVars = tempPath("OVMF_VARS.fd");
    copyFileSync(o.secureBoot, plan.secureVars);
    o.log.info(`Secure Boot on, with the keys in ${o.secureBoot}`);
  }
  if (plan.disk === "kept") o.log.info("the disk image has a data partition: the guest's writes to it are kept");
  if (firmware) o.log.verbose(`UEFI firmware: ${firmware}`);
  if (o.append.length && !o.kernel)
    o.log.info("--append: booting the ISO's kernel and initrds directly (isolinux cannot take extra boot codes)");
  if (!plan.serial) {
    o.log.warn(
      `the boot line (${plan.bootLine.join(" ") || "empty"}) has no console=ttyS0: the kernel will not write to the serial console, so nothing will show here` +
        (plan.kernel
          ? "; add --append console=ttyS0"
          : "; add console=ttyS0 to boot.append in the manifest, or boot with --kernel --append console=ttyS0"),
    );
  }
  const qemu = findQemu(o.host);
  const accel = await chooseAccel(o.mode, qemu, o.host.kvmDevice);
  o.log.info(accel.why);
  return { qemu, plan, accel };
}

/** Boots with the serial console on this terminal; returns QEMU's exit status. */
export async function runInteractive(o: BootOptions): Promise<number> {
  const { qemu, plan, accel } = await prepareBoot(o);
  try {
    const args = qemuArgs({
      ...(plan.kernel ? { kernel: plan.kernel } : { iso: plan.iso, ...(plan.disk ? { disk: plan.disk } : {}) }),
      ...(plan.firmware ? { firmware: plan.firmware } : {}),
      ...(plan.secureVars ? { secureVars: plan.secureVars } : {}),
      ...(plan.data ? { data: plan.data } : {}),
      memoryMb: o.memoryMb,
      ports: o.ports,
      accel: accel.accel,
      interactive: true,
    });
    o.log.verbose(`${qemu} ${args.join(" ")}`);
    o.log.info("the guest's serial console follows; Ctrl-C ends it");
    // QEMU puts the terminal in raw mode; when it is killed it cannot put it back.
    const restoreTerminal = terminalRestorer();
    const q = spawnGuarded(qemu, args, { stdio: "inherit" });
    const forget = onInterrupt(restoreTerminal); // after QEMU's own: killed first, then restored
    try {
      const { code } = await q.exited;
      return code ?? 1;
    } finally {
      forget();
      restoreTerminal();
    }
  } finally {
    if (plan.kernel?.dir) rmSync(plan.kernel.dir, { recursive: true, force: true });
  }
}

export interface TestOptions extends BootOptions {
  expect: readonly RegExp[];
  http: readonly HttpCheck[];
  timeoutSeconds: number;
  onConsole?: (text: string) => void;
}

export async function testImage(o: TestOptions): Promise<BootTestResult & { plan: BootPlan }> {
  if (!o.expect.length && !o.http.length)
    throw new MkError("usage", "nothing to wait for", {
      file: "mkbundle test",
      hint: "give --expect REGEX and/or --http URL~REGEX",
    });
  if (!(o.timeoutSeconds > 0)) throw new MkError("usage", `--timeout ${o.timeoutSeconds}: give a number of seconds`);
  const { qemu, plan, accel } = await prepareBoot(o);
  try {
    const r = await bootTest({
      qemu,
      plan,
      memoryMb: o.memoryMb,
      ports: o.ports,
      mode: o.mode,
      accel,
      expect: o.expect,
      http: o.http,
      timeoutSeconds: o.timeoutSeconds,
      log: o.log,
      ...(o.onConsole ? { onConsole: o.onConsole } : {}),
    });
    return { ...r, plan };
  } finally {
    if (plan.kernel?.dir) rmSync(plan.kernel.dir, { recursive: true, force: true });
  }
}

/** Puts this terminal's settings back as they are now (a no-op without a terminal). */
function terminalRestorer(): () => void {
  if (!process.stdin.isTTY) return () => {};
  let saved: string;
  try {
    saved = execFileSync("stty", ["-g"], { stdio: [0, "pipe", "ignore"], encoding: "utf8" }).trim();
  } catch {
    return () => {};
  }
  return () => {
    try {
      execFileSync("stty", [saved], { stdio: [0, "ignore", "ignore"] });
    } catch {
      // the terminal is gone
    }
  };
}

/** --data: an existing file, not the image itself (the guest writes to it). */
function dataDisk(path: string, image: string): string {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new MkError("usage", `--data ${path}: no such file`, { hint: "build it with persist: in the manifest" });
  }
  if (!st.isFile()) throw new MkError("usage", `--data ${path}: not a file`);
  if (resolve(path) === resolve(image)) throw new MkError("usage", `--data ${path} is the image itself`);
  return path;
}
