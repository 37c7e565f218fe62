import { Command, CommanderError, Help } from "commander";
import { errnoReason, formatDiagnostic, fromSystemError, MkError } from "../errors.js";
import { runInterruptTasks } from "../io/cleanup.js";
import { packageVersion } from "../io/package-version.js";
import { bindIo, type CliIo } from "./io.js";
import { initCommand } from "./commands/init.js";
import { inspectCommands } from "./commands/inspect.js";
import { sbomCommand } from "./commands/sbom.js";
import { lockCommand } from "./commands/lock.js";
import { cacheCommand } from "./commands/cache.js";
import { cleanCommand } from "./commands/clean.js";
import { tczCommand } from "./commands/tcz.js";
import { providesCommand } from "./commands/provides.js";
import { bundleCommand } from "./commands/bundle.js";
import { planCommand } from "./commands/plan.js";
import { rebuildIsoCommand } from "./commands/rebuild-iso.js";
import { qemuCommands } from "./commands/qemu.js";
import { guestCommands } from "./commands/guests.js";
import { devCommand } from "./commands/dev.js";
import { buildCommand } from "./commands/build.js";
import { razorAction, razorOptions } from "./commands/razor.js";
import { showCommand } from "./commands/show.js";
import { validateCommand } from "./commands/validate.js";
import { registryCommands, verifyCommand } from "./commands/registry.js";
import { addFetchOptions, addGlobalOptions } from "./options.js";

/**
 * Help text wrapped to the terminal, except indented lines: examples (`  mkbundle …`) stay
 * whole, so that they can be copied and run as printed.
 */
function wrapKeepingExamples(this: Help, str: string, width: number): string {
  return str
    .split("\n")
    .map((line) => (/^\s/.test(line) ? line : Help.prototype.boxWrap.call(this, line, width)))
    .join("\n");
}

function buildProgram(io: CliIo): Command {
  const program = new Command("mkbundle")
    .description(
      "Compile a YAML manifest into a bootable, reproducible Tiny Core Linux microkernel image.\n" +
        "Without a command, takes Razor's flags: mkbundle -b builtin.lst -m mirror.lst [-p|-d] [-t PASSWD]",
    )
    .version(packageVersion(), "-V, --version")
    .enablePositionalOptions()
    .allowExcessArguments()
    .configureHelp({ sortSubcommands: false, boxWrap: wrapKeepingExamples })
    .exitOverride()
    .configureOutput({ writeOut: (s) => void io.out.write(s), writeErr: (s) => void io.err.write(s) });
  bindIo(program, io);
  program.optionsGroup("Razor's flags (mkbundle -b FILE -m FILE ..., without a command):");
  razorOptions(program);
  program.optionsGroup("Global options (every command takes them, before or after its name):");
  addGlobalOptions(program);
  program.optionsGroup("Download options (lock, bundle, plan, build, dev; --plain-http also push, pull):");
  addFetchOptions(program);
  program.optionsGroup("Options:");
  validateCommand(program);
  showCommand(program);
  initCommand(program);
  inspectCommands(program);
  sbomCommand(program);
  lockCommand(program);
  cacheCommand(program);
  cleanCommand(program);
  tczCommand(program);
  providesCommand(program);
  bundleCommand(program);
  planCommand(program);
  rebuildIsoCommand(program);
  buildCommand(program);
  qemuCommands(program);
  guestCommands(program);
  devCommand(program);
  registryCommands(program);
  verifyCommand(program);
  const everyCommand = (c: Command) => {
    c.exitOverride();
    // Each command's help shows its own options; the program's are in mkbundle --help.
    if (!c.commands.length) c.addHelpText("after", "\nGlobal options and Razor's flags: mkbundle --help");
    c.commands.forEach(everyCommand);
  };
  program.commands.forEach(everyCommand);
  program.action(() => razorAction(program));
  program.addHelpText(
    "after",
    `
Razor's environment and -c settings: MK_BUNDLE_BUILTIN_LIST, MK_BUNDLE_MIRROR_LIST, MK_BUNDLE_TC_PASSWD,
MK_BUNDLE_TYPE (prod|dev|debug), MK_BUNDLE_TCL_MIRROR_URI (the mirror's root, or Razor's …/4.x/x86/tcz),
MK_BUNDLE_TCL_RELEASE (4.x, 10.x, …), MK_BUNDLE_TCL_ARCH (x86 | x86_64), MK_BUNDLE_TCL_ISO_URL, MK_BUNDLE_GEM_SERVER_URI.
Precedence: command line > -c file > environment > defaults.

Limits on any one opened container (ISO, initrd, .tcz, tar), whatever its headers claim:
MKBUNDLE_MAX_ENTRIES (default 1000000 entries) and MKBUNDLE_MAX_BYTES (default 4G: its files'
bytes, and what one gzip stream may expand to).

Examples:
  mkbundle init my-image && mkbundle validate my-image/mkbundle.yaml
  mkbundle show manifests/razor-dev.yaml
  mkbundle -b extensions.lst -m mirror.lst -p --dry-run

Exit codes: 0 success, 1 build failure, 2 usage or validation error.`,
  );
  return program;
}

/**
 * Runs the CLI; returns the exit status. This is the one place where a failure becomes an
 * exit status: an MkError (or an operating-system error about a path) prints its
 * diagnostics and exits 1 or 2 by its code; anything else is a bug and reaches main.ts,
 * which prints it with its stack trace.
 */
export async function run(argv: string[], io: CliIo): Promise<number> {
  try {
    await buildProgram(io).parseAsync(argv, { from: "user" });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return HELP_CODES.has(e.code) ? 0 : 2; // commander printed the problem
    const err = e instanceof MkError ? e : fromSystemError(e);
    if (!err) throw e;
    if (!err.reported) for (const d of err.diagnostics) io.err.write(`${formatDiagnostic(d)}\n`);
    return err.exitStatus;
  }
}

const HELP_CODES = new Set(["commander.helpDisplayed", "commander.version", "commander.help"]);

/**
 * Standard output that cannot be written (a full disk, a closed pipe) ends the command: a
 * closed pipe (`| head`) quietly, as cat does; anything else as an error, never exit 0 with
 * the output lost.
 */
export function exitOnStdoutErrors(): void {
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    runInterruptTasks();
    if (e.code === "EPIPE") process.exit(0);
    process.stderr.write(`mkbundle: cannot write to standard output: ${errnoReason(e)}\n`);
    process.exit(1);
  });
}

/** Interrupted: undo what is running (QEMU, temporary files), then exit 128 + the signal's number, as shells do. */
export function exitOnSignals(): void {
  for (const [signal, status] of [
    ["SIGINT", 130],
    ["SIGTERM", 143],
    ["SIGHUP", 129],
  ] as const) {
    process.on(signal, () => {
      runInterruptTasks();
      process.exit(status);
    });
  }
}
