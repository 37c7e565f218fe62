// services: a script each in /opt/mkbundle/services, started in the background from the
// base's own /opt/bootlocal.sh (which the stock bootsync.sh runs). Each says on the
// console (and in its log) when it starts and when it exits, with its status and how long it
// ran, so a boot log shows whether the service ran; restart: on-failure or always starts it
// again with a bounded backoff, in plain busybox sh. Its own output goes to its log. kernel_modules with load: boot are
// loaded there first, one modprobe each, before any service starts.
import { BOOTLOCAL, editBootlocal, SERVICES_DIR } from "../tinycore/layout.js";
import { fileEntry, type Entry, readSmallText } from "../tree/entry.js";
import { moduleName } from "./depmod.js";
import type { OverlayInput } from "./types.js";

/** Backoff between restarts: doubling from 1 s up to this; a run this long resets it. */
const MAX_DELAY = 30;
const STEADY = 60;

/** How long a dependant waits for a dependency's readiness, and a ready: check polls, in seconds. */
const WAIT = 300;
/** Where a service marks itself ready for its dependants. */
const READY_DIR = "/tmp/mkbundle/ready";

type Service = NonNullable<OverlayInput["manifest"]["services"]>[number];

/** A value as one single-quoted shell word. */
const shellWord = (v: string | number | boolean) => `'${String(v).replace(/'/g, "'\\''")}'`;

/** The command and its environment, as it runs (as root inline, or from NAME.run through su). */
function commandText(s: Service): string {
  const exports = Object.entries(s.environment ?? {}).map(([k, v]) => `export ${k}=${shellWord(v)}`);
  return [...exports, s.run.replace(/\n+$/, "")].join("\n");
}

const readyCheck = (r: NonNullable<Service["ready"]>): { test: string; said: string } =>
  "port" in r
    ? { test: `netstat -ltn 2>/dev/null | grep -q ':${r.port} '`, said: `port ${r.port} is listening` }
    : { test: r.command, said: "its ready: command passed" };

export function serviceScript(s: Service & { log: string }): string {
  const { name, log } = s;
  const restart = s.restart ?? "no";
  // Its own log gets the lines too, unless the log is a terminal the console already shows.
  const toLog = log.startsWith("/dev/") ? "" : `; echo "mkbundle: service ${name} $*" >> ${log}`;
  const stop =
    restart === "no"
      ? [`say "exited with $status after $up s (restart: no: it stays down)"`, "exit 0"]
      : restart === "on-failure"
        ? [`[ $status -eq 0 ] && { say "exited with 0 after $up s (restart: on-failure: done)"; exit 0; }`]
        : [];
  const waits = (s.depends_on ?? []).flatMap((d) => [
    "waited=0",
    `until [ -e ${READY_DIR}/${d} ]; do`,
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
        `  until ${check.test}; do n=$(( n + 1 )); [ $n -ge ${WAIT} ] && exit 0; sleep 1; done`,
        `  say "ready (${check.said})"; : > ${READY_DIR}/${name}`, // said before dependants can see it
        ") &",
      ]
    : [`: > ${READY_DIR}/${name}`];
  const body = s.user
    ? [`su -s /bin/sh -c /${SERVICES_DIR}/${name}.run ${s.user} >> ${log} 2>&1`]
    : ["(", commandText(s), `) >> ${log} 2>&1`]; // a subshell: an exit in the command ends the service, not this script
  return [
    "#!/bin/sh",
    `# mkbundle service '${name}', started at boot by /${BOOTLOCAL} (in the background); restart: ${restart}${s.user ? `; runs as ${s.user}` : ""}`,
    `say() { echo "mkbundle: service ${name} $*" > /dev/console${toLog}; }`,
    `mkdir -p ${READY_DIR}`,
    ...waits,
    "delay=1",
    "while :; do",
    `rm -f ${READY_DIR}/${name}`,
    `say started${s.user ? ` as ${s.user}` : ""}`,
    "began=$(date +%s)",
    ...ready,
    ...body,
    "status=$?",
    `rm -f ${READY_DIR}/${name}`, // down: not ready for anyone
    "up=$(( $(date +%s) - began ))",
    ...stop,
    `say "exited with $status after $up s; restarting in $delay s (restart: ${restart})"`,
    "sleep $delay",
    `if [ $up -ge ${STEADY} ]; then delay=1; else delay=$(( delay * 2 )); [ $delay -gt ${MAX_DELAY} ] && delay=${MAX_DELAY}; fi`,
    "done",
    "",
  ].join("\n");
}

export async function serviceEntries(input: OverlayInput): Promise<Entry[]> {
  const { services, epoch } = input.manifest;
  const modules = (input.manifest.kernel_modules ?? []).filter((k) => k.load === "boot").map((k) => moduleName(k.path));
  if (!services.length && !modules.length) return [];
  const out = services.flatMap((s) => [
    fileEntry(`${SERVICES_DIR}/${s.name}.sh`, Buffer.from(serviceScript(s)), epoch, 0o755),
    // Run through su as the service's user: the command in a file of its own.
    ...(s.user
      ? [fileEntry(`${SERVICES_DIR}/${s.name}.run`, Buffer.from(`#!/bin/sh\n${commandText(s)}\n`), epoch, 0o755)]
      : []),
  ]);
  const base = input.base.get(BOOTLOCAL);
  const original = base?.type === "file" ? await readSmallText(base) : undefined;
  const text = editBootlocal(original, {
    last: [
      ...modules.map((m) => `modprobe ${m} || echo "mkbundle: kernel module ${m} did not load" > /dev/console`),
      ...services.map((s) => `/${SERVICES_DIR}/${s.name}.sh &`),
    ],
    comment: modules.length ? "kernel modules and services added by mkbundle" : "services added by mkbundle",
  });
  out.push(fileEntry(BOOTLOCAL, Buffer.from(text), epoch, base?.mode ?? 0o755, base?.uid ?? 0, base?.gid ?? 0));
  return out;
}
