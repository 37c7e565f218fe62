// Images run like containers: `mkbundle ps`, `logs`, `stop` and `exec` for the guests that
// `mkbundle run -d` started (state under --work-dir's guests/).
import { closeSync, existsSync, openSync, readSync, statSync } from "node:fs";
import { Option, type Command } from "commander";
import { guests } from "../../context/boot.js";
import { PassedExitStatus } from "../../errors.js";
import type { GuestState } from "../../qemu/background.js";
import { addGlobalOptions, globalsOf, sessionOf, wholeNumber } from "../options.js";

const ago = (ms: number) => {
  const s = Math.max(0, Math.round(ms / 1000));
  return s < 120 ? `${s} s` : s < 7200 ? `${Math.round(s / 60)} min` : `${Math.round(s / 3600)} h`;
};

function row(g: GuestState): string[] {
  const status =
    g.state === "running"
      ? `running, up ${ago(Date.now() - g.started)}`
      : `exited${g.status === undefined ? "" : ` (${g.status}${g.status === 137 ? ", killed" : ""})`}`;
  return [g.name, status, g.accel, g.ports.map((p) => `127.0.0.1:${p.host}->${p.guest}`).join(",") || "-", g.image];
}

const table = (rows: string[][]): string => {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join("  ")).join("\n");
};

/** Writes the log from `from` to the end; the new offset. */
function copyFrom(file: string, from: number, write: (b: Buffer) => void): number {
  if (!existsSync(file)) return from;
  const size = statSync(file).size;
  if (size <= from) return size < from ? 0 : from;
  const fd = openSync(file, "r");
  try {
    const buf = Buffer.alloc(Math.min(size - from, 1 << 20));
    let at = from;
    while (at < size) {
      const n = readSync(fd, buf, 0, Math.min(buf.length, size - at), at);
      if (!n) break;
      write(buf.subarray(0, n));
      at += n;
    }
    return at;
  } finally {
    closeSync(fd);
  }
}

export function guestCommands(program: Command): void {
  addGlobalOptions(
    program
      .command("ps")
      .summary("list the guests mkbundle run -d started: running, or exited with their status")
      .description(
        "List the background guests of --work-dir: name, status (running and for how long, or exited with QEMU's " +
          "exit status; 137 is a kill), accelerator, port forwards and image. A guest whose QEMU died shows as exited.\n\n" +
          "  mkbundle ps --json",
      )
      .option("--json", "print them as JSON"),
    ["mirror", "out"],
  ).action(async (_o: unknown, cmd: Command) => {
    const session = sessionOf(cmd);
    const list = (await guests(session)).list();
    if (globalsOf<{ json?: boolean }>(cmd).json) return session.print(JSON.stringify(list, null, 2));
    session.print(
      list.length
        ? table([["NAME", "STATUS", "ACCEL", "PORTS", "IMAGE"], ...list.map(row)])
        : "no guests (mkbundle run -d IMAGE starts one)",
    );
  });

  addGlobalOptions(
    program
      .command("logs")
      .summary("show a background guest's serial console")
      .description(
        "Print the serial console of guest NAME (everything since it started); with -f, keep printing what it writes " +
          "until it exits or Ctrl-C.\n\n  mkbundle logs -f hello",
      )
      .argument("<name>", "the guest's name (mkbundle ps)")
      .option("-f, --follow", "keep printing until the guest exits"),
    ["mirror", "out"],
  ).action(async (name: string, _o: unknown, cmd: Command) => {
    const session = sessionOf(cmd);
    const g = await guests(session);
    g.state(name); // a known guest, or exit 2
    const file = g.consoleLog(name);
    const write = (b: Buffer) => void session.io.out.write(b);
    let at = copyFrom(file, 0, write);
    if (!globalsOf<{ follow?: boolean }>(cmd).follow) return;
    while (g.state(name).state === "running") {
      await new Promise((r) => setTimeout(r, 200));
      at = copyFrom(file, at, write);
    }
    copyFrom(file, at, write);
  });

  addGlobalOptions(
    program
      .command("stop")
      .summary("stop background guests: ACPI power-down, then kill after a timeout")
      .description(
        "Ask each guest NAME to power down (ACPI, through QEMU's QMP socket) and wait up to --timeout seconds for it to " +
          "exit; then kill QEMU. A guest that has no ACPI handler (Tiny Core runs no acpid by default) is killed at the " +
          "timeout. Its directory stays for logs and ps until the next run -d with its name.\n\n  mkbundle stop hello --timeout 5",
      )
      .argument("<names...>", "the guests' names (mkbundle ps)")
      .addOption(
        new Option("--timeout <seconds>", "how long to wait after the power-down")
          .default(10)
          .argParser(wholeNumber("--timeout")),
      ),
    ["mirror", "out"],
  ).action(async (names: string[], _o: unknown, cmd: Command) => {
    const session = sessionOf(cmd);
    const g = await guests(session);
    const timeout = globalsOf<{ timeout: number }>(cmd).timeout;
    for (const name of names) g.state(name); // all known, or exit 2 before any is stopped
    for (const name of names) {
      const how = await g.stop(name, timeout);
      session.print(
        `${name}: ${how === "exited" ? "had already exited" : how === "killed" ? `killed after ${timeout} s` : "powered off"}`,
      );
    }
  });

  addGlobalOptions(
    program
      .command("exec")
      .summary("run a command in a background guest (dev and debug images) and return its output and status")
      .description(
        "Run CMD (a shell command line) in guest NAME through its exec agent on the second serial port, which dev and " +
          "debug images start at boot (prod images have none: the prod audit refuses it). Waits for the agent (up to " +
          "--timeout), prints the command's output (stdout and stderr, the first 1 MiB) and exits with its status.\n\n" +
          "  mkbundle exec hello -- mkbundle-svc status",
      )
      .argument("<name>", "the guest's name (mkbundle ps)")
      .argument("<command...>", "the command and its arguments (after --)")
      .addOption(
        new Option("--timeout <seconds>", "how long to wait for the agent and the answer")
          .default(120)
          .argParser(wholeNumber("--timeout")),
      ),
    ["mirror", "out"],
  ).action(async (name: string, command: string[], _o: unknown, cmd: Command) => {
    const session = sessionOf(cmd);
    const r = await (await guests(session)).exec(name, command.join(" "), globalsOf<{ timeout: number }>(cmd).timeout);
    session.io.out.write(r.output);
    if (r.status !== 0) throw new PassedExitStatus(r.status);
  });
}
