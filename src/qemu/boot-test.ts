// Boots headless and waits until every console regex has appeared and every HTTP check has
// passed, QEMU exits, the guest kernel panics, or the timeout. Under --accel auto, a KVM boot
// that fails the way broken hosts fail (QEMU reports a KVM error, or the guest stays silent
// while it should print) is restarted once under software emulation; under software
// emulation, a boot that fails Linux's timer check is booted again. QEMU is always killed.
import { stripAnsi } from "./ansi.js";
import type { Log } from "../log.js";
import type { Accel, AccelChoice, AccelMode } from "./accel.js";
import { qemuArgs, type PortForward } from "./args.js";
import { httpCheckOnce, type HttpCheck } from "./checks.js";
import { spawnGuarded } from "./guard.js";
import type { BootPlan } from "./image.js";
import { arrivalClock, consoleTimeline, timeline, type Milestone } from "./timeline.js";

const KVM_FAILURE = /KVM internal error|kvm_[a-z_]+: Assertion|emulation failure|failed to (set|get) MSR|KVM_RUN/i;
/** The line a panicking Linux prints (whole: up to its line end). The guest goes no further. */
const PANIC = /Kernel panic - not syncing:[^\r\n]*(?=[\r\n])/;
/** Seconds to keep reading after a panic, for the call trace that follows its line. */
const PANIC_GRACE = 1;
/**
 * Linux checks that the timer interrupt arrives through the IO-APIC with a delay loop
 * calibrated earlier in the boot; under software emulation on a busy host the loop's speed
 * changes in between, and older kernels (4.x's 3.0) panic. An artefact of the emulation, not
 * of the image (seen in this project's CI): such a boot is started again, at most twice.
 */
const TIMER_CHECK_PANIC = /IO-APIC \+ timer doesn't work/;
const TIMER_CHECK_RESTARTS = 2;

export interface BootTestOptions {
  qemu: string;
  plan: BootPlan;
  memoryMb: number;
  ports: readonly PortForward[];
  mode: AccelMode;
  accel: AccelChoice;
  expect: readonly RegExp[];
  http: readonly HttpCheck[];
  timeoutSeconds: number;
  /** Seconds of a silent serial console after which a KVM boot counts as broken (auto only). */
  silenceSeconds?: number;
  onConsole?: (text: string) => void;
  log: Log;
}

interface CheckResult {
  kind: "console" | "http";
  name: string;
  passed: boolean;
  /** Seconds from QEMU's start to the first match. */
  seconds?: number;
  /** HTTP: the URL polled, the regex its body must match, and the last answer (or error) seen. */
  url?: string;
  pattern?: string;
  last?: string;
}

export interface BootTestResult {
  passed: boolean;
  seconds: number;
  accel: Accel;
  accelWhy: string;
  console: string;
  checks: CheckResult[];
  /** How QEMU ended, when it ended by itself before the checks passed. */
  exit?: string;
  /** Where the boot's time went: console milestones and the checks' first passes, in order. */
  timeline: Milestone[];
}

type Attempt = BootTestResult | { fallback: string };

async function attempt(o: BootTestOptions, accel: Accel, accelWhy: string): Promise<Attempt> {
  const started = Date.now();
  const args = qemuArgs({
    ...(o.plan.kernel ? { kernel: o.plan.kernel } : { iso: o.plan.iso, ...(o.plan.disk ? { disk: o.plan.disk } : {}) }),
    ...(o.plan.firmware ? { firmware: o.plan.firmware } : {}),
    ...(o.plan.secureVars ? { secureVars: o.plan.secureVars } : {}),
    ...(o.plan.data ? { data: o.plan.data } : {}),
    memoryMb: o.memoryMb,
    ports: o.ports,
    accel,
    interactive: false,
  });
  o.log.verbose(`${o.qemu} ${args.join(" ")}`);
  const q = spawnGuarded(o.qemu, args, { stdio: ["ignore", "pipe", "pipe"] });
  let serial = "";
  let errors = "";
  let console = "";
  const marks = consoleTimeline();
  const clock = arrivalClock();
  let exit: string | undefined;
  let spawnError: Error | undefined;
  q.process.stdout!.on("data", (d: Buffer) => {
    const t = d.toString("latin1");
    serial += t;
    console += t;
    const now = (Date.now() - started) / 1000;
    clock.arrived(t, now);
    marks.seen(serial, now);
    o.onConsole?.(t);
  });
  q.process.stderr!.on("data", (d: Buffer) => {
    const t = d.toString("latin1");
    errors += t;
    console += t;
    clock.arrived(t, (Date.now() - started) / 1000);
  });
  q.process.on("error", (e) => (spawnError = e));
  void q.exited.then(
    ({ code, signal }) => (exit = signal ? `QEMU was killed (${signal})` : `QEMU exited with code ${code}`),
  );
  const checks: CheckResult[] = [
    ...o.expect.map((re) => ({ kind: "console" as const, name: `/${re.source}/`, passed: false })),
    ...o.http.map((c) => ({
      kind: "http" as const,
      name: `${c.url}~${c.body.source}`,
      url: c.url,
      pattern: c.body.source,
      passed: false,
    })),
  ];
  const seconds = () => (Date.now() - started) / 1000;
  const canFallBack = o.mode === "auto" && accel === "kvm";
  // Under KVM a kernel writes its first console line within a second or two.
  const silence = o.silenceSeconds ?? Math.min(20, Math.max(8, o.timeoutSeconds / 4));
  let panic: { line: string; at: number } | undefined;
  try {
    for (;;) {
      if (spawnError) throw spawnError;
      const text = stripAnsi(console);
      o.expect.forEach((re, i) => {
        if (checks[i]!.passed) return;
        const m = re.exec(text);
        if (m) Object.assign(checks[i]!, { passed: true, seconds: clock.by(m.index + m[0].length) ?? seconds() });
      });
      for (const [i, c] of o.http.entries()) {
        const check = checks[o.expect.length + i]!;
        if (check.passed) continue;
        const r = await httpCheckOnce(c);
        check.last = r.last;
        if (r.ok) Object.assign(check, { passed: true, seconds: seconds() });
      }
      const passed = checks.every((c) => c.passed);
      if (canFallBack && !passed) {
        if (KVM_FAILURE.test(errors))
          return {
            fallback: `QEMU reported a KVM failure (${errors
              .split("\n")
              .find((l) => KVM_FAILURE.test(l))!
              .trim()})`,
          };
        if (exit && !serial) return { fallback: `${exit} under KVM before the guest printed anything` };
        if (o.plan.serial && !serial && seconds() > silence)
          return { fallback: `the guest printed nothing in ${silence} s under KVM` };
      }
      if (!passed && !panic) {
        const line = PANIC.exec(text)?.[0];
        if (line) panic = { line: line.trim(), at: seconds() };
      }
      // A panic names the failure, also when QEMU then exits (a guest with panic=N reboots).
      const panicked = panic && (exit || seconds() >= panic.at + PANIC_GRACE);
      const ended = panic ? (panicked ? `the guest kernel panicked: ${panic.line}` : undefined) : exit;
      if (passed || ended || seconds() > o.timeoutSeconds) {
        return {
          passed,
          seconds: seconds(),
          accel,
          accelWhy,
          console,
          checks,
          ...(ended && !passed ? { exit: ended } : {}),
          timeline: timeline(marks.milestones(), checks),
        };
      }
      await Promise.race([q.exited, new Promise((r) => setTimeout(r, 250))]);
    }
  } finally {
    q.kill();
    await Promise.race([q.exited, new Promise((r) => setTimeout(r, 2000))]);
  }
}

export async function bootTest(o: BootTestOptions): Promise<BootTestResult> {
  for (let restart = 1; ; restart++) {
    const r = await bootWithFallback(o);
    if (r.passed || r.accel !== "tcg" || !TIMER_CHECK_PANIC.test(r.console) || restart > TIMER_CHECK_RESTARTS) return r;
    o.log.warn(
      `the guest kernel failed its IO-APIC timer check under software emulation (a busy host upsets its ` +
        `calibrated delay loop; not the image's fault): booting again, ${restart} of ${TIMER_CHECK_RESTARTS}`,
    );
    // Under software emulation from now on: a KVM host that fell back stays fallen back.
    o = { ...o, mode: "tcg", accel: { accel: "tcg", why: r.accelWhy } };
  }
}

async function bootWithFallback(o: BootTestOptions): Promise<BootTestResult> {
  const first = await attempt(o, o.accel.accel, o.accel.why);
  if (!("fallback" in first)) return first;
  const why = `${first.fallback}: restarted under software emulation`;
  o.log.warn(why);
  const second = await attempt({ ...o, mode: "tcg" }, "tcg", `QEMU under software emulation (${why})`);
  if ("fallback" in second) throw new Error("a TCG boot never falls back"); // unreachable: mode tcg
  return second;
}
