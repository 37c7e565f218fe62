// run, test and dev as the context runs them: the QEMU host (binary, PATH, KVM device,
// firmware) and the accelerator from the configuration, the limits for opening the image.
import type { Config } from "../config/config.js";
import type { DevInput, DevOptions } from "../dev/session.js";
import type { ResolveContext } from "../lock/context.js";
import type { ManifestInput } from "../manifest/input.js";
import type { BootOptions, QemuHost, TestOptions } from "../qemu/boot.js";
import type { BootTestResult } from "../qemu/boot-test.js";
import { manifestFileRun, tcPasswordOf } from "./manifest.js";
import { resolveContext, type Verbosity } from "./resolve.js";
import { configOf, type Session } from "./session.js";

export const qemuHost = (config: Config): QemuHost => ({
  binary: config.values.qemu,
  searchPath: config.values.path,
  kvmDevice: config.values.kvmDevice,
  ovmf: config.values.ovmf,
});

/** What every boot takes from the configuration. */
function bootSettings(s: Session) {
  const config = configOf(s);
  return { mode: config.values.accel, host: qemuHost(config), limits: config.limits, out: config.values.out };
}

/**
 * What the dev loop reads again after each save (the manifest, its configuration, tc's
 * password) and the boot settings it starts with.
 */
function devSession(s: Session & { verbosity: Verbosity }, file: string) {
  const configs = new WeakMap<ManifestInput, Config>();
  const load = (): DevInput => {
    const run = manifestFileRun(s, file);
    configs.set(run.input, run.config);
    return {
      input: run.input,
      password: tcPasswordOf(s, run.input),
      reproducible: run.config.sourceDateEpoch !== undefined,
    };
  };
  const context = (input: ManifestInput): ResolveContext =>
    resolveContext(configs.get(input) ?? configOf(s, input.written), s.env, input, s.log, s.verbosity);
  const { mode, host } = bootSettings(s);
  return { load, context, mode, host, log: s.log };
}

/** `mkbundle dev`: the loop, until interrupted. */
export async function runDevLoop(
  s: Session & { verbosity: Verbosity },
  file: string,
  o: Pick<DevOptions, "ports" | "memoryMb" | "expect" | "builtin" | "console">,
): Promise<never> {
  const { runDev } = await import("../dev/session.js");
  return runDev({ ...devSession(s, file), ...o });
}

/** What `run` and `test` are asked to boot. */
export type BootRequest = Omit<BootOptions, "mode" | "host" | "log" | "limits">;

const bootOptions = (s: Session, r: BootRequest): BootOptions => {
  const { mode, host, limits } = bootSettings(s);
  return { ...r, mode, host, limits, log: s.log };
};

/** `mkbundle run`: QEMU with the console on this terminal; its exit status. */
export async function runImage(s: Session, r: BootRequest): Promise<number> {
  const { runInteractive } = await import("../qemu/boot.js");
  return runInteractive(bootOptions(s, r));
}

/** `mkbundle test`: the boot test, and where its console was saved (always on failure, or as asked). */
export async function runTest(
  s: Session,
  r: BootRequest &
    Pick<TestOptions, "expect" | "http" | "timeoutSeconds" | "onConsole"> & { consoleLog?: string; junit?: string },
): Promise<{ result: BootTestResult; consoleLog?: string }> {
  const { consoleLog, junit, ...request } = r;
  const [{ testImage }, { saveTestReports }] = await Promise.all([
    import("../qemu/boot.js"),
    import("../qemu/reports.js"),
  ]);
  const result = await testImage({ ...bootOptions(s, request), ...request });
  const saved = await saveTestReports(request.image, result, {
    out: bootSettings(s).out,
    ...(consoleLog ? { consoleLog } : {}),
    ...(junit ? { junit } : {}),
  });
  return { result, ...(saved ? { consoleLog: saved } : {}) };
}

/** `mkbundle run -d`: the guest started in the background, under --work-dir's guests/. */
export async function runDetached(s: Session, r: BootRequest & { name?: string }) {
  const { startDetached } = await import("../qemu/background.js");
  return startDetached({ ...bootOptions(s, r), workDir: configOf(s).values.workDir });
}

/** ps, logs, stop and exec: the background guests of --work-dir. */
export async function guests(s: Session) {
  const [background, { execInGuest }] = await Promise.all([import("../qemu/background.js"), import("../qemu/exec.js")]);
  const workDir = configOf(s).values.workDir;
  return {
    workDir,
    list: () => background.listGuests(workDir),
    state: (name: string) => background.guestState(workDir, name),
    consoleLog: (name: string) => background.consoleLogOf(workDir, name),
    stop: (name: string, timeoutS: number) => background.stopGuest(workDir, name, timeoutS),
    exec: (name: string, command: string, timeoutS: number) => execInGuest(workDir, name, command, timeoutS),
  };
}
