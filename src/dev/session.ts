// `mkbundle dev`: the build-and-boot loop. Lock once, then boot the base kernel with the
// base initrd and the overlay appended (no bundle, no ISO), streaming the console. When the
// manifest or a file it reads is saved, rebuild the overlay alone; when only files' bytes or
// modes changed, send them into the running guest and restart the services they concern
// (live-change.ts, channel.ts, receiver.ts), else restart the guest, saying why; and say how
// long each --expect took from the save.
import { randomBytes } from "node:crypto";
import { mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MkError } from "../errors.js";
import type { ResolveContext } from "../lock/context.js";
import { inputsDigest, type Lock } from "../lock/lock-file.js";
import { lockStage } from "../lock/stage.js";
import { tcShadowField, type TcField, type TcPassword } from "../overlay/password.js";
import type { ManifestInput } from "../manifest/input.js";
import { bootCodes } from "../manifest/resolve.js";
import type { Log } from "../log.js";
import { chooseAccel, type Accel, type AccelMode } from "../qemu/accel.js";
import { qemuArgs, type PortForward } from "../qemu/args.js";
import { stripAnsi } from "../qemu/ansi.js";
import { consoleTimeline, renderTimeline, timeline } from "../qemu/timeline.js";
import { findQemu, type QemuHost } from "../qemu/boot.js";
import { spawnGuarded, type GuardedProcess } from "../qemu/guard.js";
import { hasSerialConsole } from "../qemu/image.js";
import type { BuiltinMode } from "../remaster/unpack-builtin.js";
import { blobPath } from "../store/cas.js";
import { openBaseImage, type BaseImage } from "../tinycore/base-image.js";
import { bootLine } from "../tinycore/boot-line.js";
import { onInterrupt } from "../io/cleanup.js";
import { devOverlay } from "./image.js";
import { chooseChannel, hostChannel, updateArchive } from "./channel.js";
import { liveChange, type ImageState } from "./live-change.js";
import { pollFiles, watchedFiles } from "./watch.js";

/** What the dev loop reads again after each save: the manifest and tc's password. */
export interface DevInput {
  input: ManifestInput;
  password: TcPassword;
  /** SOURCE_DATE_EPOCH is set: a new password hash gets a salt derived from the image. */
  reproducible: boolean;
}

export interface DevOptions {
  /** Reads, validates and resolves the manifest (again after each save). */
  load(): DevInput;
  context(input: ManifestInput): ResolveContext;
  ports: readonly PortForward[];
  memoryMb: number;
  mode: AccelMode;
  expect: readonly RegExp[];
  builtin: BuiltinMode;
  host: QemuHost;
  log: Log;
  /** Where the guest's console goes. */
  console(text: string): void;
}

interface Prepared {
  input: ManifestInput;
  ctx: ResolveContext;
  lock: Lock;
  base: BaseImage;
  baseInitrd: Buffer;
  kernel: Buffer;
  append: string;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

async function prepareBase(input: ManifestInput, ctx: ResolveContext, previous?: Prepared): Promise<Prepared> {
  const lockResult = await lockStage(
    { manifest: input.manifest, ...(input.file ? { manifestFile: input.file } : {}) },
    ctx,
  ).finally(() => ctx.fetch.progress.finish());
  const lock = lockResult.lock;
  if (previous && previous.lock.base.sha256 === lock.base.sha256)
    return { ...previous, input, ctx, lock, append: devBootLine(input, previous.base) };
  previous?.base.close();
  const base = await openBaseImage(blobPath(ctx.fetch.store, lock.base.sha256), ctx.limits);
  return {
    input,
    ctx,
    lock,
    base,
    baseInitrd: Buffer.concat(await base.initrdBytes()),
    kernel: await base.kernel(),
    append: devBootLine(input, base),
  };
}

/** The default label's codes, boot.append, and console=ttyS0: dev shows the console. */
function devBootLine(input: ManifestInput, base: BaseImage): string {
  const codes = bootLine(base.boot.label, bootCodes(input.manifest));
  if (!hasSerialConsole(codes)) codes.push("console=ttyS0");
  return codes.join(" ");
}

/** The same warning after every save is noise: each is said once per session. */
function onceLog(log: Log): Log {
  const said = new Set<string>();
  return { ...log, warn: (m) => void (!said.has(m) && (said.add(m), log.warn(m))) };
}

/**
 * dev's own lines start on a line of their own: the guest's console (stdout) often stops
 * mid-line (a prompt), and a log line (stderr) would be glued onto it on the terminal.
 */
export function lineAware(log: Log, write: (text: string) => void): { log: Log; console: (text: string) => void } {
  let midLine = false;
  const fresh = () => {
    if (midLine) write("\n");
    midLine = false;
  };
  return {
    log: {
      ...log,
      info: (m) => (fresh(), log.info(m)),
      warn: (m) => (fresh(), log.warn(m)),
      error: (m) => (fresh(), log.error(m)),
    },
    console: (t) => {
      if (!t) return;
      write(t);
      midLine = !t.endsWith("\n");
    },
  };
}

export async function runDev(options: DevOptions): Promise<never> {
  const o = { ...options, ...lineAware(onceLog(options.log), (t) => options.console(t)) };
  const dir = mkdtempSync(join(tmpdir(), "mkbundle-dev-"));
  onInterrupt(() => rmSync(dir, { recursive: true, force: true }));
  const kernelPath = join(dir, "kernel");
  const initrdPath = join(dir, "initrd");
  let loaded = o.load();
  let input = loaded.input;
  let tcField: TcField | undefined;
  const context = (i: ManifestInput) => ({ ...o.context(i), log: o.log });
  let state = await prepareBase(input, context(input));
  writeFileSync(kernelPath, state.kernel);
  const qemu = findQemu(o.host);
  const choice = await chooseAccel(o.mode, qemu, o.host.kvmDevice);
  let accel: Accel = choice.accel;
  o.log.info(`dev: ${choice.why}`);

  // Live updates: a channel the base allows, and a token only this session's receiver knows.
  const token = randomBytes(16).toString("hex");
  const pick = await chooseChannel(await state.base.initrd());
  const channel = hostChannel(pick.channel, dir, token);
  onInterrupt(() => channel.close());
  o.log.info(`dev: live updates over ${pick.why}`);

  let guest: GuardedProcess | undefined;
  let overlaySha = "";
  let kernelSha = state.lock.base.sha256;
  /** The image the guest runs: as booted, then as live updates changed it. */
  let running: ImageState | undefined;
  let receiverUp = false;
  let seq = 0;
  const sentAt = new Map<number, number>();

  // What the console is watched for since the last boot or live update.
  let watch = {
    text: "",
    pending: new Set<RegExp>(),
    savedAt: 0,
    builtAt: 0,
    when: "",
    live: 0,
    bootAt: 0,
  };
  const arm = (savedAt: number, builtAt: number, when: string, live = 0) =>
    (watch = {
      text: "",
      pending: new Set(o.expect),
      savedAt,
      builtAt,
      when,
      live,
      bootAt: live ? watch.bootAt : Date.now(),
    });
  // Each boot's timeline (as mkbundle test prints it), said once its services have started and its --expects matched.
  let bootLog = {
    text: "",
    marks: consoleTimeline(),
    expects: [] as { kind: string; name: string; seconds: number }[],
    said: false,
  };
  const sayTimeline = (now = false) => {
    const services = input.manifest.services.map((s) => `service ${s.name}`);
    const events = new Set(bootLog.marks.milestones().map((m) => m.event));
    if (bootLog.said || (!now && (bootLog.expects.length < o.expect.length || !services.every((e) => events.has(e)))))
      return;
    bootLog.said = true;
    for (const line of renderTimeline(timeline(bootLog.marks.milestones(), bootLog.expects), accel))
      o.log.info(`dev: ${line}`);
  };
  const onText = (t: string) => {
    if (!bootLog.said && bootLog.text.length < 1 << 22) {
      bootLog.text += t;
      bootLog.marks.seen(bootLog.text, (Date.now() - watch.bootAt) / 1000);
    }
    watch.text += t;
    const plain = stripAnsi(watch.text);
    if (/mkbundle: dev receiver ready/.test(plain)) receiverUp = true;
    for (const m of plain.matchAll(/mkbundle: dev update (\d+) applied/g)) {
      const at = sentAt.get(Number(m[1]));
      if (at === undefined) continue;
      sentAt.delete(Number(m[1]));
      o.log.info(`dev: update ${m[1]} applied ${seconds(Date.now() - at)} after the save`);
    }
    for (const re of [...watch.pending]) {
      if (!re.test(plain)) continue;
      watch.pending.delete(re);
      const now = Date.now();
      const how = watch.live
        ? `live update ${watch.live}, sent ${seconds(watch.builtAt - watch.savedAt)} after the save`
        : `boot ${seconds(now - watch.bootAt)}, overlay ready ${seconds(watch.builtAt - watch.savedAt)} ${watch.when}`;
      o.log.info(`dev: /${re.source}/ ${seconds(now - watch.savedAt)} ${watch.when} (${how})`);
      if (!watch.live)
        bootLog.expects.push({ kind: "console", name: `/${re.source}/`, seconds: (now - watch.bootAt) / 1000 });
    }
    sayTimeline();
    if (watch.text.length > 1 << 20) watch.text = watch.text.slice(-(1 << 19)); // bounded: matches are near the end
  };

  // The first boot follows the start, every later one a save.
  let since = "after the start";
  const boot = (savedAt: number, builtAt: number) => {
    guest?.kill();
    receiverUp = false;
    const args = [
      ...qemuArgs({
        kernel: { kernel: kernelPath, initrd: initrdPath, append: state.append },
        memoryMb: o.memoryMb,
        ports: o.ports,
        accel,
        interactive: false,
      }),
      ...channel.qemuArgs,
    ];
    o.log.verbose(`dev: ${qemu} ${args.join(" ")}`);
    arm(savedAt, builtAt, since);
    bootLog = { text: "", marks: consoleTimeline(), expects: [], said: false };
    const g = spawnGuarded(qemu, args, { stdio: ["ignore", "pipe", "pipe"] });
    guest = g;
    channel.attach();
    g.process.stdout!.on("data", (d: Buffer) => {
      const t = d.toString("latin1");
      o.console(t);
      if (guest === g) onText(t);
    });
    g.process.stderr!.on("data", (d: Buffer) => {
      const t = d.toString("latin1");
      o.console(t);
      if (accel === "kvm" && /KVM internal error|emulation failure|failed to set MSR/.test(t)) {
        o.log.warn("dev: QEMU reported a KVM failure: booting again under software emulation");
        accel = "tcg";
        setImmediate(() => boot(savedAt, builtAt));
      }
    });
    void g.exited.then(({ code, signal }) => {
      if (guest === g && !signal)
        o.log.info(`dev: QEMU exited (code ${code}); save a file to boot again, Ctrl-C to stop`);
    });
  };
  const guestRunning = () =>
    guest !== undefined && guest.process.exitCode === null && guest.process.signalCode === null;

  /** Sends the change into the running guest; false (with the reason said) when it must reboot instead. */
  const sendLive = async (next: ImageState, savedAt: number, builtAt: number): Promise<boolean> => {
    if (!running || !guestRunning()) return false;
    const change = liveChange(running, next);
    const rebootFor = (why: string) => (o.log.info(`dev: rebooting: ${why}`), false);
    if (!change.live) return rebootFor(change.why);
    if (!receiverUp) return rebootFor("the guest's receiver is not up yet");
    if (!change.changed.length) {
      o.log.info("dev: no file the guest has changed: nothing to send");
      return true;
    }
    const archive = await updateArchive(change.changed, input.manifest.epoch);
    const n = ++seq;
    try {
      await channel.send({ seq: n, archive, restart: change.restart });
    } catch (e) {
      return rebootFor(`the live update could not be sent (${(e as Error).message})`);
    }
    sayTimeline(true); // the boot is over: its timeline as far as it got
    sentAt.set(n, savedAt);
    running = next;
    o.log.info(
      `dev: live update ${n} over ${channel.channel}: ${change.changed.map((e) => `/${e.path}`).join(", ")} (${archive.length} bytes, ${seconds(builtAt - savedAt)} after the save); restarting: ${change.restart.join(", ") || "none"}`,
    );
    arm(savedAt, builtAt, "after the save", n);
    return true;
  };

  const build = async (savedAt: number): Promise<boolean> => {
    tcField = tcShadowField(input.manifest, loaded.password, {
      previous: typeof tcField === "string" ? tcField : undefined,
      reproducible: loaded.reproducible,
      log: o.log,
    });
    const overlay = await devOverlay(input, state.lock, state.base, state.ctx, o.builtin, tcField, {
      channel: channel.channel,
      token,
    });
    const builtAt = Date.now();
    if (overlay.sha256 === overlaySha && kernelSha === state.lock.base.sha256) {
      o.log.info(`dev: the image did not change (overlay ready ${seconds(builtAt - savedAt)} ${since})`);
      return false;
    }
    if (overlay.builtin.unpack && !overlaySha) o.log.info(`dev: builtin extensions: ${overlay.builtin.why}`);
    if (input.manifest.prune?.length && !overlaySha)
      o.log.info("dev: prune: is checked but not applied: the dev image boots the base initrd and the builtins whole");
    const baseSame = kernelSha === state.lock.base.sha256;
    if (!baseSame) writeFileSync(kernelPath, state.kernel);
    [overlaySha, kernelSha] = [overlay.sha256, state.lock.base.sha256];
    // The next boot's image, whether this change goes live or not.
    writeFileSync(`${initrdPath}.tmp`, Buffer.concat([state.baseInitrd, overlay.archive]));
    renameSync(`${initrdPath}.tmp`, initrdPath);
    const next = overlay.state;
    if (!baseSame && running && guestRunning()) o.log.info("dev: rebooting: the base (kernel and initrd) changed");
    else if (await sendLive(next, savedAt, builtAt)) return true;
    o.log.info(
      `dev: overlay ${since === "after the start" ? "built" : "rebuilt"} (${overlay.archive.length} bytes) ${seconds(builtAt - savedAt)} ${since}; booting`,
    );
    running = next;
    boot(savedAt, builtAt);
    return true;
  };

  await build(Date.now());
  since = "after the save";
  let busy = false;
  let again: number | undefined;
  const watcher = pollFiles(watchedFiles(input), (paths, savedAt) => void rebuild(paths, savedAt));
  const rebuild = async (paths: string[], savedAt: number): Promise<void> => {
    if (busy) {
      again = Math.max(again ?? 0, savedAt);
      return;
    }
    busy = true;
    try {
      o.log.info(`dev: changed: ${paths.join(", ")}`);
      try {
        const nextLoaded = o.load();
        const next = nextLoaded.input;
        const relock =
          inputsDigest(next.manifest) !== inputsDigest(input.manifest) ||
          next.manifest.mirror !== input.manifest.mirror;
        [loaded, input] = [nextLoaded, next];
        state = relock
          ? await prepareBase(input, context(input), state)
          : { ...state, input, append: devBootLine(input, state.base) };
        watcher.watch(watchedFiles(input));
        await build(savedAt);
      } catch (e) {
        if (!(e instanceof MkError)) throw e;
        o.log.diagnostics(e.diagnostics);
        o.log.error("dev: the image was not rebuilt; the guest keeps running: fix the problem and save again");
      }
    } finally {
      busy = false;
      if (again !== undefined) {
        const at = again;
        again = undefined;
        void rebuild([], at);
      }
    }
  };
  onInterrupt(() => watcher.stop());
  return new Promise<never>(() => {}); // until interrupted: Ctrl-C ends QEMU, the watcher and the temporary files
}
