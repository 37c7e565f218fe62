// `mkbundle run` and `mkbundle test`: boot an image in QEMU; prove the service came up.
import { Option, type Command } from "commander";
import { runDetached, runImage, runTest, type BootRequest } from "../../context/boot.js";
import { MkError } from "../../errors.js";
import { parsePort, type PortForward } from "../../qemu/args.js";
import { stripAnsi } from "../../qemu/ansi.js";
import type { BootTestResult } from "../../qemu/boot-test.js";
import { renderTimeline } from "../../qemu/timeline.js";
import { parseHttpCheck, parseRegex, type HttpCheck } from "../../qemu/checks.js";
import { addGlobalOptions, globalsOf, sessionOf, wholeNumber, type CliSession } from "../options.js";
import type { GlobalOptions } from "../output.js";

interface BootCliOptions extends GlobalOptions {
  detach?: boolean;
  name?: string;
  kernel?: boolean;
  disk?: boolean;
  data?: string;
  uefi?: boolean;
  secureBoot?: string;
  append?: string[];
  port?: PortForward[];
  memory: number;
}

interface TestCliOptions extends BootCliOptions {
  expect?: RegExp[];
  http?: HttpCheck[];
  timeout: number;
  junit?: string;
  json?: boolean;
  consoleLog?: string;
}

const collect =
  <T>(parse: (s: string) => T) =>
  (value: string, previous: T[] = []) => [...previous, parse(value)];
const codes = (v: string, prev: string[] = []) => [...prev, ...v.split(/\s+/).filter(Boolean)];

function bootOptions(cmd: Command): Command {
  return cmd
    .argument("<image>", "an ISO written by mkbundle rebuild-iso (or any Tiny Core ISO)")
    .option("--kernel", "boot the ISO's kernel and initrds directly, skipping isolinux (fast)")
    .option(
      "--disk",
      "boot the ISO as a raw disk, as from a USB stick (its isohybrid MBR), instead of a CD; writes are discarded, but a disk image's (--format disk) are kept",
    )
    .option(
      "--data <file>",
      "attach a data partition (persist:, the build's -data.img) as a second disk; the guest's writes stay in it",
    )
    .option(
      "--uefi",
      "boot under UEFI firmware (OVMF; env MKBUNDLE_OVMF) instead of a BIOS: the ISO's UEFI entry, or with --disk its EFI System Partition",
    )
    .option(
      "--secure-boot <vars>",
      "boot under UEFI with Secure Boot on: OVMF's Secure Boot build with a copy of VARS, a variables template holding the keys (e.g. /usr/share/OVMF/OVMF_VARS_4M.snakeoil.fd, Debian's test key); the firmware refuses what they did not sign",
    )
    .option(
      "--append <codes>",
      "boot codes added to the default label's (repeatable); boots the kernel directly, as with --kernel",
      codes,
    )
    .option("--port <host:guest>", "forward 127.0.0.1:HOST to the guest's TCP port (repeatable)", collect(parsePort))
    .addOption(new Option("--memory <mb>", "guest memory in MB").default(512).argParser(wholeNumber("--memory", 64)))
    .addOption(
      new Option(
        "--accel <mode>",
        "auto: KVM when a test guest runs under it, else software emulation; kvm; tcg (env MKBUNDLE_ACCEL)",
      ),
    );
}

/** The boot options of a run or test command line. */
const bootRequest = (image: string, o: BootCliOptions): BootRequest => ({
  image,
  ...(o.kernel ? { kernel: true } : {}),
  ...(o.disk ? { disk: true } : {}),
  ...(o.data ? { data: o.data } : {}),
  ...(o.uefi || o.secureBoot ? { uefi: true } : {}),
  ...(o.secureBoot ? { secureBoot: o.secureBoot } : {}),
  append: o.append ?? [],
  ports: o.port ?? [],
  memoryMb: o.memory,
});

export function qemuCommands(program: Command): void {
  addGlobalOptions(
    bootOptions(
      program
        .command("run")
        .summary("boot an image in QEMU with its serial console on this terminal")
        .description(
          "Boot IMAGE in QEMU: serial console on the terminal (quit with Ctrl-A x), user-mode networking with an e1000 NIC, " +
            "--port forwards bound to 127.0.0.1. KVM when a test guest runs under it, software emulation otherwise (--accel). " +
            "Exit 0 when QEMU exits 0, else 1. With -d, start it in the background instead, its console logged under " +
            "--work-dir (guests/NAME): mkbundle ps lists the guests, logs shows a console, stop powers one down, exec runs " +
            "a command in a dev or debug image.\n\n" +
            "  mkbundle run build-files/hello-service-prod-1.0.0.iso --kernel --append console=ttyS0 --port 18080:80\n" +
            "  mkbundle run -d build-files/hello-service-dev-1.0.0.iso --name hello --port 18080:80",
        ),
    )
      .option("-d, --detach", "start the guest in the background (mkbundle ps, logs, stop, exec)")
      .option("--name <name>", "with -d: the guest's name (default: from the image's file name)"),
  ).action(async (image: string, _o: unknown, cmd: Command) => {
    const o = globalsOf<BootCliOptions>(cmd);
    const session = sessionOf(cmd);
    if (o.name && !o.detach) throw new MkError("usage", "--name names a background guest: add -d");
    if (o.detach) {
      const g = await runDetached(session, { ...bootRequest(image, o), ...(o.name ? { name: o.name } : {}) });
      session.log.info(
        `started ${g.name} (QEMU pid ${g.pid}, ${g.accel}); mkbundle logs -f ${g.name} shows its console`,
      );
      return session.print(g.name);
    }
    const status = await runImage(session, bootRequest(image, o));
    if (status !== 0) throw new MkError("boot", [], { reported: true });
  });

  addGlobalOptions(
    bootOptions(
      program
        .command("test")
        .summary("boot an image headless and check its console and HTTP endpoints")
        .description(
          "Boot IMAGE headless and wait until every --expect regex has appeared on the serial console and every " +
            "--http check has answered 2xx with a matching body (polled through the --port forwards). QEMU exiting " +
            "early (a crash, a reboot) or a guest kernel panic fails at once. On failure, print what was missing and the console, and save " +
            "the console in --out. QEMU is always killed. Exit 0 or 1: the boot test for CI.\n\n" +
            "  mkbundle test build-files/hello-service-prod-1.0.0.iso --expect 'mkbundle: service hello started'\n" +
            "  mkbundle test IMAGE --port 18080:80 --http 'http://127.0.0.1:18080/~Hello' --junit report.xml   # a base with e1000",
        ),
    )
      .option(
        "--expect <regex>",
        "a regex the serial console must show (repeatable)",
        collect((s) => parseRegex(s, "--expect")),
      )
      .option("--http <url~regex>", "an HTTP check: URL~REGEX (repeatable)", collect(parseHttpCheck))
      .addOption(
        new Option("--timeout <seconds>", "give up after this long").default(180).argParser(wholeNumber("--timeout")),
      )
      .option("--junit <file>", "write the result as JUnit XML (one testcase per check, the console in system-out)")
      .option("--console-log <file>", "save the console here (it is always saved in --out on failure)")
      .option("--json", "print the result as JSON: checks, times, the boot's timeline, accelerator, console log path"),
  ).action(async (image: string, _o: unknown, cmd: Command) => {
    const o = globalsOf<TestCliOptions>(cmd);
    const session = sessionOf(cmd);
    const { result: r, consoleLog } = await runTest(session, {
      ...bootRequest(image, o),
      expect: o.expect ?? [],
      http: o.http ?? [],
      timeoutSeconds: o.timeout,
      ...(o.verbose ? { onConsole: (t: string) => void session.io.err.write(t) } : {}),
      ...(o.consoleLog ? { consoleLog: o.consoleLog } : {}),
      ...(o.junit ? { junit: o.junit } : {}),
    });
    report(r, { ...o, ...(consoleLog ? { consoleLog } : {}) }, session);
    if (!r.passed) throw new MkError("boot", [], { reported: true });
  });
}

function report(r: BootTestResult, o: TestCliOptions, { log, print, io }: CliSession): void {
  if (o.json) {
    print(
      JSON.stringify(
        {
          passed: r.passed,
          seconds: r.seconds,
          accelerator: r.accel,
          acceleratorWhy: r.accelWhy,
          checks: r.checks,
          ...(r.exit ? { exit: r.exit } : {}),
          timeline: r.timeline,
          consoleLog: o.consoleLog ?? null,
        },
        null,
        2,
      ),
    );
  }
  const n = r.checks.length;
  if (!o.json) for (const line of renderTimeline(r.timeline, r.accel)) log.info(line);
  if (r.passed) {
    // The result, once, on stdout (with --json the JSON says it).
    if (!o.json) print(`passed: ${n} check${n > 1 ? "s" : ""} in ${r.seconds.toFixed(1)} s`);
    return;
  }
  io.err.write(`--- console (${r.console.length} bytes) ---\n${stripAnsi(r.console)}\n--- end of console ---\n`);
  for (const c of r.checks.filter((x) => !x.passed))
    log.error(
      c.kind === "console"
        ? `console never showed ${c.name}`
        : `${c.url} never answered /${c.pattern}/ (last: ${c.last ?? "no answer"})`,
    );
  log.error(
    `failed after ${r.seconds.toFixed(1)} s${r.exit ? `: ${r.exit}` : ""}${o.consoleLog ? `; console saved in ${o.consoleLog}` : ""}`,
  );
}
