// Guests run in the background, like containers: `run -d` starts QEMU detached with its
// console logged, `ps` lists them, `logs` shows a console, `stop` powers one down (ACPI, then
// SIGKILL after a timeout). Each guest is a directory under WORK/guests/NAME: guest.json (what
// was started), console.log, qemu.pid, QEMU's QMP socket, the exec agent's socket, and
// exit-status, written by the shell that waits for QEMU, so a guest whose QEMU died (even by
// kill -9) shows as exited with its status, never as running.
import { spawn } from "node:child_process";
import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { basename, join, relative, resolve } from "node:path";
import { MkError } from "../errors.js";
import { qemuArgs, type PortForward } from "./args.js";
import { prepareBoot, type BootOptions } from "./boot.js";
import { qmpCommand } from "./qmp.js";

export interface GuestRecord {
  name: string;
  image: string;
  accel: string;
  ports: PortForward[];
  /** When it was started (ms since 1970). */
  started: number;
  pid: number;
}

export type GuestState =
  (GuestRecord & { state: "running" }) | (GuestRecord & { state: "exited"; status?: number; ended?: number });

const NAME = /^[a-z0-9][a-z0-9_.-]{0,62}$/;
const guestsDir = (workDir: string) => join(workDir, "guests");
const dirOf = (workDir: string, name: string) => join(guestsDir(workDir), name);
export const consoleLogOf = (workDir: string, name: string) => join(dirOf(workDir, name), "console.log");
export const execSocketOf = (workDir: string, name: string) => join(dirOf(workDir, name), "exec.sock");

/** A Unix socket path short enough for sockaddr_un (108 bytes): relative to here when that is shorter. */
export function socketPath(path: string): string {
  const rel = relative(process.cwd(), path);
  const best = rel.length < path.length ? rel : path;
  if (Buffer.byteLength(best) > 100)
    throw new MkError("usage", `the socket ${path} is too long a path for a Unix socket`, {
      hint: "use a shorter --work-dir",
    });
  return best;
}

/** Whether a pid is a live QEMU (not a zombie, not a reused pid of another program). */
function qemuAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
  if (!existsSync(`/proc/${pid}`)) return true; // no /proc (macOS): the signal's answer is all there is
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    if (/^\d+ \(.*\) [ZX]/.test(stat)) return false;
    return /qemu/.test(readFileSync(`/proc/${pid}/cmdline`, "utf8"));
  } catch {
    return false;
  }
}

function readRecord(dir: string): GuestRecord | undefined {
  try {
    const text = readFileSync(join(dir, "guest.json"), "utf8");
    if (text.length > 64 * 1024) return undefined;
    const r = JSON.parse(text) as Partial<GuestRecord>;
    if (typeof r.name !== "string" || !NAME.test(r.name) || typeof r.pid !== "number" || typeof r.started !== "number")
      return undefined;
    return {
      name: r.name,
      image: typeof r.image === "string" ? r.image : "?",
      accel: typeof r.accel === "string" ? r.accel : "?",
      ports: Array.isArray(r.ports)
        ? r.ports.filter((p) => Number.isInteger(p?.host) && Number.isInteger(p?.guest))
        : [],
      started: r.started,
      pid: r.pid,
    };
  } catch {
    return undefined;
  }
}

function stateOf(dir: string, r: GuestRecord): GuestState {
  if (qemuAlive(r.pid)) return { ...r, state: "running" };
  const exit = join(dir, "exit-status");
  const text = existsSync(exit) ? readFileSync(exit, "utf8").trim() : "";
  const status = /^\d{1,3}$/.test(text) ? Number(text) : undefined;
  return { ...r, state: "exited", ...(status !== undefined ? { status } : {}) };
}

export function listGuests(workDir: string): GuestState[] {
  const root = guestsDir(workDir);
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .filter((n) => NAME.test(n))
    .sort()
    .flatMap((n) => {
      const r = readRecord(join(root, n));
      return r ? [stateOf(join(root, n), r)] : [];
    });
}

export function guestState(workDir: string, name: string): GuestState {
  if (!NAME.test(name))
    throw new MkError("usage", `'${name.slice(0, 80)}' is not a guest name`, { hint: "mkbundle ps lists them" });
  const r = readRecord(dirOf(workDir, name));
  if (!r)
    throw new MkError("usage", `no guest is named ${name}`, {
      hint: `mkbundle ps lists the guests of --work-dir ${workDir}`,
    });
  return stateOf(dirOf(workDir, name), r);
}

/** A name from the image's file name that no guest has. */
function freeName(workDir: string, image: string): string {
  const stem =
    basename(image)
      .replace(/\.iso$/i, "")
      .toLowerCase()
      .replace(/[^a-z0-9_.-]+/g, "-")
      .replace(/^[^a-z0-9]+/, "")
      .slice(0, 56) || "guest";
  const taken = new Set(listGuests(workDir).map((g) => g.name));
  for (let i = 1; ; i++) if (!taken.has(`${stem}-${i}`)) return `${stem}-${i}`;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startDetached(o: BootOptions & { name?: string; workDir: string }): Promise<GuestRecord> {
  const name = o.name ?? freeName(o.workDir, o.image);
  if (!NAME.test(name))
    throw new MkError("usage", `--name '${name.slice(0, 80)}': lower-case letters, digits, '.', '_' and '-', up to 63`);
  const dir = dirOf(o.workDir, name);
  const old = readRecord(dir);
  if (old && qemuAlive(old.pid))
    throw new MkError("usage", `a guest named ${name} is running`, {
      hint: `mkbundle stop ${name}, or another --name`,
    });
  const { qemu, plan, accel } = await prepareBoot(o);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  // What the boot needs must outlive this process: the kernel and initrd, the firmware's variables.
  if (plan.kernel) {
    copyFileSync(plan.kernel.kernel, join(dir, "kernel"));
    copyFileSync(plan.kernel.initrd, join(dir, "initrd"));
    if (plan.kernel.dir) rmSync(plan.kernel.dir, { recursive: true, force: true });
    plan.kernel = { kernel: join(dir, "kernel"), initrd: join(dir, "initrd"), append: plan.kernel.append };
  }
  if (plan.secureVars) {
    copyFileSync(plan.secureVars, join(dir, "OVMF_VARS.fd"));
    plan.secureVars = join(dir, "OVMF_VARS.fd");
  }
  const args = [
    ...qemuArgs({
      ...(plan.kernel
        ? { kernel: plan.kernel }
        : { iso: resolve(plan.iso), ...(plan.disk ? { disk: plan.disk } : {}) }),
      ...(plan.firmware ? { firmware: plan.firmware } : {}),
      ...(plan.secureVars ? { secureVars: plan.secureVars } : {}),
      ...(plan.data ? { data: resolve(plan.data) } : {}),
      memoryMb: o.memoryMb,
      ports: o.ports,
      accel: accel.accel,
      interactive: false,
    }),
    "-qmp",
    "unix:qmp.sock,server=on,wait=off",
    "-pidfile",
    "qemu.pid",
    // The second serial port: the exec agent of dev and debug images (overlay/exec-agent.ts).
    "-chardev",
    "socket,id=mkexec,path=exec.sock,server=on,wait=off",
    "-serial",
    "chardev:mkexec",
  ];
  o.log.verbose(`${qemu} ${args.join(" ")}`);
  const log = openSync(join(dir, "console.log"), "a");
  // The shell waits for QEMU and records how it ended: ps tells exited from running by it.
  const wrapper = spawn("/bin/sh", ["-c", '"$@"; echo $? > exit-status', "mkbundle-guest", qemu, ...args], {
    cwd: dir,
    detached: true,
    stdio: ["ignore", log, log],
  });
  wrapper.unref();
  closeSync(log);
  const deadline = Date.now() + 15_000;
  let pid = NaN;
  while (Date.now() < deadline) {
    const text = existsSync(join(dir, "qemu.pid")) ? readFileSync(join(dir, "qemu.pid"), "utf8").trim() : "";
    if (/^\d+$/.test(text)) {
      pid = Number(text);
      break;
    }
    if (existsSync(join(dir, "exit-status"))) break;
    await sleep(50);
  }
  if (!Number.isSafeInteger(pid)) {
    const said = readFileSync(join(dir, "console.log"), "utf8").trim().split("\n").slice(-3).join(" / ");
    throw new MkError("boot", `QEMU did not start${said ? `: ${said.slice(0, 400)}` : ""}`);
  }
  const record: GuestRecord = {
    name,
    image: resolve(o.image),
    accel: accel.accel,
    ports: [...o.ports],
    started: Date.now(),
    pid,
  };
  writeFileSync(join(dir, "guest.json"), `${JSON.stringify(record, null, 2)}\n`);
  return record;
}

/** ACPI power-down through QMP, then SIGKILL after `timeoutS`: how it ended. */
export async function stopGuest(
  workDir: string,
  name: string,
  timeoutS: number,
): Promise<"exited" | "powered off" | "killed"> {
  const g = guestState(workDir, name);
  if (g.state !== "running") return "exited";
  await qmpCommand(socketPath(join(dirOf(workDir, name), "qmp.sock")), "system_powerdown").catch(() => {});
  for (const end = Date.now() + timeoutS * 1000; Date.now() < end; await sleep(100))
    if (!qemuAlive(g.pid)) return "powered off";
  try {
    process.kill(g.pid, "SIGKILL");
  } catch {
    // gone meanwhile
  }
  for (const end = Date.now() + 5_000; Date.now() < end && qemuAlive(g.pid);) await sleep(50);
  return "killed";
}
