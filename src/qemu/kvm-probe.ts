// The KVM probe: a tiny firmware image that QEMU runs in place of its BIOS. It enters
// protected mode, turns on paging and long mode, spins 20 million times and prints a
// marker on COM1: a guest that does not run, or runs far too slowly (as under the broken
// KVM of some nested or restricted hosts), never prints it in time. The bytes are
// assembled from kvm-probe.asm (nasm -f bin); test/qemu checks that they match.
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDirectory } from "../io/temp.js";
import { spawnGuarded } from "./guard.js";

export const PROBE_MARKER = "MKBUNDLE-KVM-PROBE-OK";
const SIZE = 0x10000; // QEMU wants a firmware image of a multiple of 64 KiB
const RESET_VECTOR = 0xfff0;

const CODE = [
  "fa31c08ed0bc00708cc88ed8660f0116d0000f20c00c010f22c066ea22000f00080066b810008ed88ec08ed0bf001000",
  "0031c0b9000c0000f3abc7050010000003200000c7050020000003300000c70500300000830000000f20e083c8200f22",
  "e0b8001000000f22d8b9800000c00f320d000100000f300f20c00d000000800f22c0ea89000f001800b9002d3101ffc9",
  "75fcbee0000f0066baf803ac84c07403eeebf80f011c25d6000f00cc909090900000000000000000ffff0000009acf00",
  "ffff00000092cf00ffff0000009aaf001f00b0000f00000000000000000000004d4b42554e444c452d4b564d2d50524f",
  "42452d4f4b0a",
].join("");
const RESET = "ea000000f0"; // jmp 0xF000:0000

/** The 64 KiB firmware image: code at 0, the reset vector's jump at 0xFFF0. */
export function probeFirmware(): Buffer {
  const image = Buffer.alloc(SIZE);
  Buffer.from(CODE, "hex").copy(image, 0);
  Buffer.from(RESET, "hex").copy(image, RESET_VECTOR);
  return image;
}

export interface ProbeResult {
  ok: boolean;
  seconds: number;
  /** Why not, in words: QEMU's own message, or what the guest failed to do. */
  why?: string;
}

/** Runs the probe guest under `accelArgs`; ok when it prints the marker within `deadlineMs`. */
export async function runProbe(qemu: string, accelArgs: readonly string[], deadlineMs = 3000): Promise<ProbeResult> {
  const dir = tempDirectory("kvm-probe"); // removed on any exit, Ctrl-C and SIGTERM included
  const started = Date.now();
  try {
    const firmware = join(dir, "probe.bin");
    writeFileSync(firmware, probeFirmware());
    const args = [
      ...accelArgs,
      "-bios",
      firmware,
      "-m",
      "16",
      "-nodefaults",
      "-display",
      "none",
      "-serial",
      "stdio",
      "-monitor",
      "none",
      "-no-reboot",
    ];
    const child = spawnGuarded(qemu, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    return await new Promise<ProbeResult>((resolve) => {
      const done = (r: Omit<ProbeResult, "seconds">) => {
        clearTimeout(timer);
        child.kill();
        resolve({ ...r, seconds: (Date.now() - started) / 1000 });
      };
      const timer = setTimeout(
        () => done({ ok: false, why: `a test guest printed nothing within ${deadlineMs / 1000} s` }),
        deadlineMs,
      );
      child.process.stdout!.on("data", (d: Buffer) => {
        out += d.toString("latin1");
        if (out.includes(PROBE_MARKER)) done({ ok: true });
      });
      child.process.stderr!.on("data", (d: Buffer) => (err += d.toString("latin1")));
      child.process.on("error", (e) => done({ ok: false, why: e.message }));
      child.process.on("exit", (code, signal) => {
        if (out.includes(PROBE_MARKER)) return done({ ok: true });
        // QEMU's first complaint is the cause; what follows (an assertion, a register dump) is noise here.
        const said = err
          .split("\n")
          .map((l) =>
            l
              .replace(/^qemu-system-\w+: /, "")
              .replace(/^error: /, "")
              .trim(),
          )
          .find((l) => l && !/^warning:/.test(l));
        done({
          ok: false,
          why: said
            ? `QEMU said: ${said.slice(0, 160)}`
            : `QEMU ${signal ? `was killed (${signal})` : `exited with ${code}`} before the test guest ran`,
        });
      });
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
