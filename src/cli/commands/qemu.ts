// `mkbundle run` and `mkbundle test`: boot an image in QEMU; prove the service came up.
import { spawn } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import type { Command } from "commander";
import { fileError, UserError } from "../../manifest/diagnostic.js";
import { kvmUsable, parsePort, QEMU_BINARY, qemuArgs, type PortForward } from "../../qemu/args.js";
import { parseHttpCheck, type HttpCheck } from "../../qemu/checks.js";
import type { ExtractedBoot } from "../../qemu/kernel-boot.js";
import { addGlobalOptions, globalsOf } from "../global-options.js";
import { makeLog, stdout, type GlobalOptions, type Log } from "../output.js";

interface QemuCliOptions extends GlobalOptions {
  kernel?: boolean;
  append: string[];
  port: PortForward[];
  memory: number;
  expect: RegExp[];
  http: HttpCheck[];
  timeout: number;
}

const collect = <T>(parse: (s: string) => T) => (value: string, previous: T[] = []) => {
  try {
    return [...previous, parse(value)];
  } catch (e) {
    throw new UserError([fileError("mkbundle", (e as Error).message)]);
  }
};
const codes = (v: string, prev: string[] = []) => [...prev, ...v.split(/\s+/).filter(Boolean)];

function bootOptions(cmd: Command): Command {
  return cmd
    .argument("<image>", "an ISO written by mkbundle rebuild-iso (or any Tiny Core ISO)")
    .option("--kernel", "boot the ISO's kernel and initrd directly (fast; --append adds boot codes)")
    .option("--append <codes>", "boot codes for --kernel, e.g. console=ttyS0 (repeatable)", codes)
    .option("--port <host:guest>", "forward 127.0.0.1:HOST to the guest's TCP port (repeatable)", collect(parsePort))
    .option("--memory <mb>", "guest memory", (v) => Number(v), 512);
}

/** Repeatable options are absent (not []) when never given. */
function withLists(o: QemuCliOptions): QemuCliOptions {
  return { ...o, append: o.append ?? [], port: o.port ?? [], expect: o.expect ?? [], http: o.http ?? [] };
}

async function prepare(image: string, opts: QemuCliOptions, interactive: boolean, log: Log): Promise<{ args: string[]; extracted?: ExtractedBoot }> {
  if (!existsSync(image)) throw new UserError([fileError(image, "image not found")]);
  if (!Number.isInteger(opts.memory) || opts.memory < 64) throw new UserError([fileError("mkbundle", `--memory ${opts.memory}: give at least 64 (MB)`)]);
  const kvm = kvmUsable();
  log.info(kvm ? "QEMU with KVM" : "QEMU under software emulation (KVM is not usable here): a Tiny Core boot takes 10-20 s");
  if (opts.append.length && !opts.kernel) log.warn("--append only applies with --kernel; an ISO boots with its isolinux.cfg");
  const extracted = opts.kernel ? await (await import("../../qemu/kernel-boot.js")).extractKernelBoot(image, opts.append) : undefined;
  const args = qemuArgs({ ...(extracted ? { kernel: extracted } : { iso: image }), memoryMb: opts.memory, ports: opts.port, kvm, interactive });
  log.verbose(`${QEMU_BINARY} ${args.join(" ")}`);
  return { args, ...(extracted ? { extracted } : {}) };
}

const qemuMissing = () => new UserError([fileError(QEMU_BINARY, "QEMU is not installed", "install it: apt-get install qemu-system-x86 (Debian/Ubuntu), brew install qemu (macOS)")], 1);

export function qemuCommands(program: Command): void {
  addGlobalOptions(
    bootOptions(
      program
        .command("run")
        .summary("boot an image in QEMU with its serial console on this terminal")
        .description("Boot IMAGE in QEMU: serial console on the terminal (quit with Ctrl-A x), user-mode networking with an e1000 NIC, --port forwards bound to 127.0.0.1. KVM when it works, software emulation otherwise."),
    ),
  ).action(async (image: string, _o: unknown, cmd: Command) => {
    const opts = withLists(globalsOf(cmd) as unknown as QemuCliOptions);
    const log = makeLog(opts);
    const { args, extracted } = await prepare(image, opts, true, log);
    try {
      const code = await new Promise<number>((resolve, reject) => {
        const q = spawn(QEMU_BINARY, args, { stdio: "inherit" });
        q.on("error", (e) => reject((e as NodeJS.ErrnoException).code === "ENOENT" ? qemuMissing() : e));
        q.on("exit", (c) => resolve(c ?? 1));
      });
      process.exitCode = code === 0 ? 0 : 1;
    } finally {
      if (extracted) rmSync(extracted.dir, { recursive: true, force: true });
    }
  });

  addGlobalOptions(
    bootOptions(
      program
        .command("test")
        .summary("boot an image headless and check its console and HTTP endpoints")
        .description(
          "Boot IMAGE headless and wait until every --expect regex has appeared on the serial console and every " +
            "--http check has answered 2xx with a matching body (polled through the --port forwards). On failure, " +
            "print what was missing and the console log. QEMU is always killed. Exit 0 or 1: the boot test for CI.\n\n" +
            "  mkbundle test image.iso --expect 'Setting hostname'\n" +
            "  mkbundle test image.iso --port 18080:80 --http 'http://127.0.0.1:18080/~Hello'",
        ),
    )
      .option("--expect <regex>", "a regex the serial console must show (repeatable)", collect((s) => new RegExp(s)))
      .option("--http <url~regex>", "an HTTP check: URL~REGEX (repeatable)", collect(parseHttpCheck))
      .option("--timeout <seconds>", "give up after this long", (v) => Number(v), 180),
  ).action(async (image: string, _o: unknown, cmd: Command) => {
    const opts = withLists(globalsOf(cmd) as unknown as QemuCliOptions);
    const log = makeLog(opts);
    if (!opts.expect.length && !opts.http.length) throw new UserError([fileError("mkbundle test", "nothing to wait for", "give --expect REGEX and/or --http URL~REGEX")]);
    if (!(opts.timeout > 0)) throw new UserError([fileError("mkbundle test", `--timeout ${opts.timeout}: give a number of seconds`)]);
    const { args, extracted } = await prepare(image, opts, false, log);
    try {
      const { bootTest } = await import("../../qemu/boot-test.js");
      const r = await bootTest(args, opts.expect, opts.http, opts.timeout, opts.verbose ? (t) => process.stderr.write(t) : undefined).catch((e: NodeJS.ErrnoException) => {
        throw e.code === "ENOENT" ? qemuMissing() : e;
      });
      const checks = opts.expect.length + opts.http.length;
      if (r.passed) {
        log.info(`passed: ${checks} check${checks > 1 ? "s" : ""} in ${r.seconds.toFixed(1)} s`);
        stdout("passed");
        return;
      }
      process.stderr.write(`--- console (${r.console.length} bytes) ---\n${r.console.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "")}\n--- end of console ---\n`);
      for (const m of r.missing) log.error(m);
      log.error(`failed after ${r.seconds.toFixed(1)} s${r.exit ? `: ${r.exit}` : ""}`);
      process.exitCode = 1;
    } finally {
      if (extracted) rmSync(extracted.dir, { recursive: true, force: true });
    }
  });
}
