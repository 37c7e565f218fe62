// Boots under QEMU through mkbundle's own runner (src/qemu: accelerator choice, guarded
// process, console watcher) and waits for a console line. QEMU is always killed.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { silentLog } from "../../src/log.js";
import { chooseAccel } from "../../src/qemu/accel.js";
import { findQemu, type QemuHost } from "../../src/qemu/boot.js";
import { resolveConfig } from "../../src/config/config.js";
import { qemuHost } from "../../src/context/boot.js";
import { bootTest } from "../../src/qemu/boot-test.js";
import type { BootPlan } from "../../src/qemu/image.js";

export interface BootResult {
  matched: boolean;
  console: string;
  seconds: number;
}

export type Boot = { cdrom: string } | { disk: string } | { kernel: string; initrd: string; append: string };

/** Resolves when `expect` appears on the serial console, QEMU exits, or after `timeoutSeconds`. */
export async function bootUntil(boot: Boot, expect: RegExp, timeoutSeconds = 120): Promise<BootResult> {
  const plan: BootPlan =
    "cdrom" in boot
      ? { iso: boot.cdrom, bootLine: [], serial: true }
      : "disk" in boot
        ? { iso: boot.disk, disk: "scratch" as const, bootLine: [], serial: true }
        : { iso: "", kernel: boot, bootLine: boot.append.split(" "), serial: true };
  const host = hostQemu();
  const qemu = findQemu(host);
  const accel = await chooseAccel("auto", qemu, host.kvmDevice);
  const r = await bootTest({
    qemu,
    plan,
    memoryMb: 512,
    ports: [],
    mode: "auto",
    accel,
    expect: [expect],
    http: [],
    timeoutSeconds,
    log: silentLog,
  });
  return { matched: r.passed, console: r.console, seconds: r.seconds };
}

/** The direct boot a PXE directory's boot.ipxe describes: its kernel, its initrd and the boot codes (without initrd=). */
export function pxeBoot(pxeDir: string): { kernel: string; initrd: string; append: string } {
  const script = readFileSync(join(pxeDir, "boot.ipxe"), "utf8");
  const kernelLine = /^kernel (\S+) (.*)$/m.exec(script)!;
  const initrd = /^initrd (\S+)$/m.exec(script)![1]!;
  const append = kernelLine[2]!
    .split(" ")
    .filter((c) => !c.startsWith("initrd="))
    .join(" ");
  return { kernel: join(pxeDir, kernelLine[1]!), initrd: join(pxeDir, initrd), append };
}

/** QEMU on this machine, as the configuration finds it from the test's environment. */
export const hostQemu = (): QemuHost => qemuHost(resolveConfig({ env: process.env }));
