// `mkbundle dev MANIFEST`: the build-and-boot loop.
import { Option, type Command } from "commander";
import { parseAccelMode, type AccelMode } from "../../qemu/accel.js";
import { parsePort, type PortForward } from "../../qemu/args.js";
import { parseRegex } from "../../qemu/checks.js";
import type { BuiltinMode } from "../../remaster/unpack-builtin.js";
import {
  addFetchOptions,
  addGlobalOptions,
  globalsOf,
  loadManifest,
  resolveContext,
  wholeNumber,
  type FetchOptions,
} from "../options.js";
import { makeLog } from "../output.js";
import { builtinOption } from "./rebuild-iso.js";

interface DevCliOptions extends FetchOptions {
  port?: PortForward[];
  expect?: RegExp[];
  memory: number;
  accel?: AccelMode;
  builtin: BuiltinMode;
}

const collect =
  <T>(parse: (s: string) => T) =>
  (value: string, previous: T[] = []) => [...previous, parse(value)];

export function devCommand(program: Command): void {
  addFetchOptions(
    addGlobalOptions(
      program
        .command("dev")
        .summary("build and boot, then rebuild and reboot on every save (the iteration loop)")
        .description(
          "Lock the manifest, then boot the base kernel with the base initrd and the overlay appended (as --append-initrd " +
            "builds it; no bundle, no ISO) under QEMU, with the serial console on stdout. When the manifest or a file it reads " +
            "(files[].source, password.file) is saved, only the overlay is rebuilt and the guest restarts; each --expect " +
            "regex is reported with the time from the save to its match. Ctrl-C stops everything.\n\n" +
            "  mkbundle dev manifests/hello-service.yaml --expect 'selftest: '",
        )
        .argument("<manifest>", "manifest file (YAML)")
        .option(
          "--port <host:guest>",
          "forward 127.0.0.1:HOST to the guest's TCP port (repeatable)",
          collect(parsePort),
        )
        .option(
          "--expect <regex>",
          "report when the console shows this, timed from the save (repeatable)",
          collect((s) => parseRegex(s, "--expect")),
        )
        .addOption(
          new Option("--memory <mb>", "guest memory in MB").default(512).argParser(wholeNumber("--memory", 64)),
        )
        .addOption(
          new Option("--accel <mode>", "auto, kvm or tcg (env MKBUNDLE_ACCEL)").argParser((v) =>
            parseAccelMode(v, "--accel"),
          ),
        )
        .addOption(builtinOption()),
    ),
  ).action(async (file: string, _o: unknown, cmd: Command) => {
    const opts = globalsOf<DevCliOptions>(cmd);
    const log = makeLog(opts);
    const { runDev } = await import("../../dev/session.js");
    await runDev({
      load: () => loadManifest(file, opts, log),
      context: (input) => resolveContext(opts, input, log),
      ports: opts.port ?? [],
      memoryMb: opts.memory,
      mode: opts.accel ?? parseAccelMode(process.env["MKBUNDLE_ACCEL"], "MKBUNDLE_ACCEL") ?? "auto",
      expect: opts.expect ?? [],
      builtin: opts.builtin,
      env: process.env,
      log,
      console: (t) => void process.stdout.write(t),
    });
  });
}
