// `mkbundle dev MANIFEST`: the build-and-boot loop.
import { Option, type Command } from "commander";
import { runDevLoop } from "../../context/boot.js";
import { parsePort, type PortForward } from "../../qemu/args.js";
import { parseRegex } from "../../qemu/checks.js";
import type { BuiltinMode } from "../../remaster/unpack-builtin.js";
import { addFetchOptions, addGlobalOptions, globalsOf, sessionOf, wholeNumber, type FetchOptions } from "../options.js";
import { builtinOption } from "./rebuild-iso.js";

interface DevCliOptions extends FetchOptions {
  port?: PortForward[];
  expect?: RegExp[];
  memory: number;
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
        .summary("build and boot, then send each saved file into the running guest, or reboot when it must")
        .description(
          "Lock the manifest, then boot the base kernel with the base initrd and the overlay appended (as --append-initrd " +
            "builds it; no bundle, no ISO) under QEMU, with the serial console on stdout. When the manifest or a file it reads " +
            "(files[].source, password.file, services[].env_file) is saved, the overlay is rebuilt; if only files' bytes or " +
            "modes changed, they are sent into the running guest (a read-only 9p share when the base's kernel has the 9p and " +
            "virtio modules, else the second serial port) and the services they concern restart (services[].reload_on), " +
            "else the guest reboots and the reason is said. Each --expect regex is reported with the time from the save to " +
            "its match. Ctrl-C stops everything.\n\n" +
            "  mkbundle dev manifests/hello-service.yaml --expect 'hello: serving'",
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
        .addOption(new Option("--accel <mode>", "auto, kvm or tcg (env MKBUNDLE_ACCEL)"))
        .addOption(builtinOption()),
    ),
  ).action(async (file: string, _o: unknown, cmd: Command) => {
    const opts = globalsOf<DevCliOptions>(cmd);
    const session = sessionOf(cmd);
    await runDevLoop(session, file, {
      ports: opts.port ?? [],
      memoryMb: opts.memory,
      expect: opts.expect ?? [],
      builtin: opts.builtin,
      console: (t) => void session.io.out.write(t),
    });
  });
}
