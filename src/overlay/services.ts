// services: a supervisor script each in /opt/mkbundle/services (NAME.sh), started in the
// background from the base's own /opt/bootlocal.sh (which the stock bootsync.sh runs), and the
// command in NAME.run (its environment exported first), started by the supervisor in a session
// of its own (setsid) so that stopping it reaches everything it started. The supervisor says
// on the console (and in the log) when the command starts and exits, with its status and how
// long it ran; restart: on-failure or always starts it again with a bounded backoff. Its state
// is in /tmp/mkbundle/svc, where `mkbundle-svc status|start|stop|restart` (written only when
// there are services) reads and drives it. Plain busybox sh: no new binaries in the guest.
// kernel_modules with load: boot are loaded first, one modprobe each, before any service starts;
// dev and debug images also start mkbundle exec's agent (exec-agent.ts).
import { BOOTLOCAL, editBootlocal, SERVICES_DIR } from "../tinycore/layout.js";
import { fileEntry, type Entry, readSmallText } from "../tree/entry.js";
import { moduleName } from "./depmod.js";
import { readEnvFile } from "../manifest/env-file.js";
import { execAgent } from "./exec-agent.js";
import type { OverlayInput } from "./types.js";

/** Backoff between restarts: doubling from 1 s up to this; a run this long resets it. */
const MAX_DELAY = 30;
const STEADY = 60;
/** Seconds mkbundle-svc waits after SIGTERM before SIGKILL, unless stop_timeout says otherwise. */
const STOP_TIMEOUT = 10;

/** How long a dependant waits for a dependency's readiness, and a ready: check polls, in seconds. */
const WAIT = 300;
/** Where a service marks itself ready for its dependants, and where the supervisors keep their state. */
const READY_DIR = "/tmp/mkbundle/ready";
const STATE_DIR = "/tmp/mkbundle/svc";
export const SVC_CONTROL = "usr/local/bin/mkbundle-svc";

type Service = NonNullable<OverlayInput["manifest"]["services"]>[number];

/** A value as one single-quoted shell word. */
const shellWord = (v: string | number | boolean) => `'${String(v).replace(/'/g, "'\\''")}'`;

/** NAME.run: the command and its environment, as it runs (as root, or through su as its user). */
export function runScript(s: Pick<Service, "run" | "environment">): string {
  const exports = Object.entries(s.environment ?? {}).map(([k, v]) => `export ${k}=${shellWord(v)}`);
  return ["#!/bin/sh", ...exports, s.run.replace(/\n+$/, ""), ""].join("\n");
}

const readyCheck = (r: NonNullable<Service["ready"]>): { test: string; said: string } =>
  "port" in r
    ? { test: `netstat -ltn 2>/dev/null | grep -q ':${r.port} '`, said: `port ${r.port} is listening` }
    : { test: r.command, said: "its ready: command passed" };

/** NAME.sh: the supervisor. */
export function serviceScript(s: Service & { log: string }): string {
  const { name, log } = s;
  const restart = s.restart ?? "no";
  // Its own log gets the lines too, unless the log is a terminal the console already shows.
  const toLog = log.startsWith("/dev/") ? "" : `; echo "mkbundle: service ${name} $*" >> ${log}`;
  const stop =
    restart === "no"
      ? [`say "exited with $status after $up s (restart: no: it stays down)"`, "state exited $status", "exit 0"]
      : restart === "on-failure"
        ? [
            `[ $status -eq 0 ] && { say "exited with 0 after $up s (restart: on-failure: done)"; state exited 0; exit 0; }`,
          ]
        : [];
  const waits = (s.depends_on ?? []).flatMap((d) => [
    "waited=0",
    `until [ -e $R/${d} ]; do`,
    `  [ $waited -ge ${WAIT} ] && { say "gave up waiting for ${d} after ${WAIT} s: starting anyway"; break; }`,
    "  sleep 1; waited=$(( waited + 1 ))",
    "done",
  ]);
  const check = s.ready && readyCheck(s.ready);
  const ready = check
    ? [
        // Polled beside the service: its dependants start once it answers.
        "(",
        "  n=0",
        `  until ${check.test}; do n=$(( n + 1 )); [ $n -ge ${WAIT} ] && exit 0; kill -0 $child 2>/dev/null || exit 0; sleep 1; done`,
        `  say "ready (${check.said})"; : > $R/${name}`, // said before dependants can see it
        ") &",
      ]
    : [`: > $R/${name}`];
  // setsid: the command leads a process group of its own, which mkbundle-svc stops whole.
  const start = s.user ? `setsid su -s /bin/sh -c $D/${name}.run ${s.user}` : `setsid $D/${name}.run`;
  return [
    "#!/bin/sh",
    `# mkbundle service '${name}', started at boot by /${BOOTLOCAL} (in the background); restart: ${restart}${s.user ? `; runs as ${s.user}` : ""}`,
    `D=/${SERVICES_DIR} S=${STATE_DIR} R=${READY_DIR}`,
    `say() { echo "mkbundle: service ${name} $*" > /dev/console${toLog}; }`,
    `state() { echo "$*" > $S/${name}.state; }`,
    "mkdir -p $R $S",
    `echo $$ > $S/${name}.pid`,
    `rm -f $S/${name}.stop $S/${name}.restart $S/${name}.child`,
    ...(waits.length ? ["state waiting", ...waits] : []),
    "delay=1",
    "while :; do",
    `rm -f $R/${name}`,
    `say started${s.user ? ` as ${s.user}` : ""}`,
    "began=$(date +%s)",
    `${start} < /dev/null >> ${log} 2>&1 &`,
    "child=$!",
    `echo "$child $began" > $S/${name}.child`,
    "state running",
    ...ready,
    "wait $child",
    "status=$?",
    `rm -f $R/${name} $S/${name}.child`, // down: not ready for anyone
    "up=$(( $(date +%s) - began ))",
    `if [ -e $S/${name}.stop ]; then say "stopped by mkbundle-svc after $up s (status $status)"; state stopped; rm -f $S/${name}.pid; exit 0; fi`,
    `if [ -e $S/${name}.restart ]; then rm -f $S/${name}.restart; say "restarting: asked by mkbundle-svc after $up s"; delay=1; continue; fi`,
    ...stop,
    ...(restart === "no"
      ? []
      : [
          `say "exited with $status after $up s; restarting in $delay s (restart: ${restart})"`,
          "state backoff $status",
          "sleep $delay",
          `if [ $up -ge ${STEADY} ]; then delay=1; else delay=$(( delay * 2 )); [ $delay -gt ${MAX_DELAY} ] && delay=${MAX_DELAY}; fi`,
        ]),
    "done",
    "",
  ].join("\n");
}

/** mkbundle-svc: status, start, stop and restart of the image's services, in busybox sh. */
export function controlScript(services: readonly Service[]): string {
  const names = services.map((s) => s.name).join(" ");
  const timeouts = services.map((s) => `  ${s.name}) echo ${s.stop_timeout ?? STOP_TIMEOUT} ;;`);
  return [
    "#!/bin/sh",
    "# mkbundle-svc: the services mkbundle added to this image (/opt/mkbundle/services), their state in",
    `# ${STATE_DIR}. stop and restart send SIGTERM to the service's process group, then SIGKILL after`,
    "# its stop_timeout.",
    `D=/${SERVICES_DIR} S=${STATE_DIR}`,
    `ALL="${names}"`,
    'usage() { echo "usage: mkbundle-svc status [NAME...] | start|stop|restart NAME...  (services: $ALL)" >&2; exit 2; }',
    "timeout_of() {",
    '  case "$1" in',
    ...timeouts,
    `  *) echo ${STOP_TIMEOUT} ;;`,
    "  esac",
    "}",
    'known() { for n in $ALL; do [ "$n" = "$1" ] && return 0; done; echo "mkbundle-svc: no service is named \'$1\' (services: $ALL)" >&2; return 1; }',
    'alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }',
    "supervisor() { cat $S/$1.pid 2>/dev/null; }",
    'child() { set -- $(cat $S/$1.child 2>/dev/null); echo "$1"; }',
    "status_one() {",
    "  n=$1; sup=$(supervisor $n)",
    '  if ! alive "$sup"; then echo "$n: stopped ($(cat $S/$n.state 2>/dev/null || echo never started))"; return 3; fi',
    "  set -- $(cat $S/$n.child 2>/dev/null)",
    '  if alive "$1"; then echo "$n: running, pid $1, for $(( $(date +%s) - $2 )) s$([ -e /tmp/mkbundle/ready/$n ] && echo ", ready")"; return 0; fi',
    '  echo "$n: $(cat $S/$n.state 2>/dev/null)"; return 0',
    "}",
    "# The command's whole process group: SIGTERM, then SIGKILL after the timeout.",
    "end_child() {",
    '  pid=$(child $1); alive "$pid" || return 0',
    '  kill -TERM -"$pid" 2>/dev/null || kill -TERM "$pid"',
    "  t=$(timeout_of $1); waited=0",
    '  while alive "$pid" && [ $waited -lt $t ]; do sleep 1; waited=$(( waited + 1 )); done',
    '  alive "$pid" && { echo "mkbundle-svc: $1 did not stop within $t s: killed" >&2; kill -KILL -"$pid" 2>/dev/null || kill -KILL "$pid"; }',
    "  return 0",
    "}",
    "stop_one() {",
    "  n=$1; sup=$(supervisor $n)",
    '  alive "$sup" || { echo "$n: not running"; return 0; }',
    "  : > $S/$n.stop",
    "  end_child $n",
    "  waited=0",
    '  while alive "$sup" && [ $waited -lt 10 ]; do usleep 200000; waited=$(( waited + 1 )); done',
    '  alive "$sup" && kill "$sup" 2>/dev/null # between two runs (backoff): nothing to wait for',
    "  rm -f $S/$n.pid $S/$n.child; echo stopped > $S/$n.state",
    '  echo "$n: stopped"',
    "}",
    "start_one() {",
    "  n=$1; sup=$(supervisor $n)",
    '  alive "$sup" && { echo "$n: already running"; return 0; }',
    "  rm -f $S/$n.stop",
    "  setsid $D/$n.sh < /dev/null > /dev/null 2>&1 &",
    '  echo "$n: started"',
    "}",
    "restart_one() {",
    "  n=$1; sup=$(supervisor $n)",
    '  if alive "$sup" && alive "$(child $n)"; then : > $S/$n.restart; end_child $n; echo "$n: restarted"',
    '  else stop_one $n > /dev/null; start_one $n > /dev/null; echo "$n: started"; fi',
    "}",
    'cmd=$1; [ -n "$cmd" ] || usage; shift',
    'case "$cmd" in',
    "  status)",
    "    [ $# -gt 0 ] || set -- $ALL; rc=0",
    '    for n in "$@"; do known "$n" || exit 2; status_one "$n" || rc=3; done; exit $rc ;;',
    "  start|stop|restart)",
    "    [ $# -gt 0 ] || usage",
    '    for n in "$@"; do known "$n" || exit 2; done',
    '    for n in "$@"; do ${cmd}_one "$n"; done ;;',
    "  *) usage ;;",
    "esac",
    "",
  ].join("\n");
}

/** Each service with its env_file's values under its own environment: (which wins). */
function withEnvFiles(input: OverlayInput, problems: string[]): Service[] {
  return input.manifest.services.map((s, i) => {
    if (!s.env_file) return s;
    const read = readEnvFile(input.manifestDir, s.env_file);
    if ("problem" in read) {
      problems.push(`services[${i}].env_file: ${read.problem}`);
      return s;
    }
    return { ...s, environment: { ...read.values, ...(s.environment ?? {}) } };
  });
}

export async function serviceEntries(input: OverlayInput, problems: string[] = []): Promise<Entry[]> {
  const { epoch } = input.manifest;
  const services = withEnvFiles(input, problems);
  const modules = (input.manifest.kernel_modules ?? []).filter((k) => k.load === "boot").map((k) => moduleName(k.path));
  const agent = input.manifest.flavour === "prod" ? undefined : execAgent(epoch);
  if (!services.length && !modules.length && !agent) return [];
  const out = services.flatMap((s) => [
    fileEntry(`${SERVICES_DIR}/${s.name}.sh`, Buffer.from(serviceScript(s)), epoch, 0o755),
    fileEntry(`${SERVICES_DIR}/${s.name}.run`, Buffer.from(runScript(s)), epoch, 0o755),
  ]);
  if (services.length) out.push(fileEntry(SVC_CONTROL, Buffer.from(controlScript(services)), epoch, 0o755));
  if (agent) out.push(...agent.entries);
  const base = input.base.get(BOOTLOCAL);
  const original = base?.type === "file" ? await readSmallText(base) : undefined;
  const text = editBootlocal(original, {
    last: [
      ...modules.map((m) => `modprobe ${m} || echo "mkbundle: kernel module ${m} did not load" > /dev/console`),
      ...services.map((s) => `/${SERVICES_DIR}/${s.name}.sh &`),
      ...(agent ? [agent.start] : []),
    ],
    comment: `${[modules.length ? "kernel modules" : "", services.length ? "services" : "", agent ? "mkbundle exec's agent" : ""].filter(Boolean).join(", ")} added by mkbundle`,
  });
  out.push(fileEntry(BOOTLOCAL, Buffer.from(text), epoch, base?.mode ?? 0o755, base?.uid ?? 0, base?.gid ?? 0));
  return out;
}
