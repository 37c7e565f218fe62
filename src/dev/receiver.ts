// The guest half of mkbundle dev's live updates, in busybox sh, written only into the image
// mkbundle dev boots (never into a built image: the prod audit refuses it). An update is a
// tar.gz of changed files with a header "SEQ SHA1 SIZE SERVICES": SHA1 is of this session's
// token, a newline and the archive, so the receiver takes only what this dev loop sent. It
// arrives through a read-only 9p share the guest mounts (kernels with 9p/virtio modules) or
// through the second serial port (any kernel with an 8250 UART), where the receiver answers
// each update with "MKBUNDLE-DEV-OK SEQ". Applied: files extracted over /, then the named
// services restarted by mkbundle-svc; both said on the console.
import { SVC_CONTROL } from "../overlay/services.js";

export type Channel = "9p" | "serial";
export const SHARE_TAG = "mkbundle-dev";
/** The largest update either side accepts. */
export const MAX_UPDATE = 16 * 1024 * 1024;

export function receiverScript(channel: Channel, token: string): string {
  const common = [
    "#!/bin/sh",
    `# mkbundle dev: live updates over ${channel === "9p" ? "a read-only 9p share" : "the second serial port (/dev/ttyS1)"}. Only in images mkbundle dev boots.`,
    `TOKEN=${token}`,
    "W=/tmp/mkbundle/dev",
    "mkdir -p $W",
    'say() { echo "mkbundle: dev $*" > /dev/console; }',
    "# apply ARCHIVE SEQ SHA1 SIZE SERVICES",
    "apply() {",
    '  case "$4" in ""|*[!0-9]*) say "update $2 refused: no size"; return 1 ;; esac',
    `  [ "$4" -le ${MAX_UPDATE} ] || { say "update $2 refused: larger than ${MAX_UPDATE} bytes"; return 1; }`,
    '  [ "$(wc -c < "$1")" -eq "$4" ] || { say "update $2 refused: it is not $4 bytes"; return 1; }',
    '  got=$( { echo "$TOKEN"; cat "$1"; } | sha1sum | cut -d" " -f1 )',
    '  [ "$got" = "$3" ] || { say "update $2 refused: not from this dev session"; return 1; }',
    '  files=$(tar tzf "$1" | tr "\\n" " ")',
    '  tar xzf "$1" -C / || { say "update $2: extracting failed"; return 1; }',
    '  restarted=""',
    '  for s in $(echo "$5" | tr , " "); do',
    '    [ "$s" = - ] && continue',
    `    /${SVC_CONTROL} restart "$s" > /dev/null && restarted="$restarted $s"`,
    "  done",
    '  say "update $2 applied: ${files% }; restarted:${restarted:- none}"',
    "}",
  ];
  const loop =
    channel === "9p"
      ? [
          "modprobe virtio_pci 2>/dev/null; modprobe 9pnet_virtio 2>/dev/null; modprobe 9p 2>/dev/null",
          "mkdir -p $W/share",
          "tries=0",
          `until mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=none ${SHARE_TAG} $W/share 2>/dev/null; do`,
          '  tries=$(( tries + 1 )); [ $tries -ge 30 ] && { say "receiver: the 9p share did not mount: no live updates"; exit 1; }',
          "  sleep 1",
          "done",
          'say "receiver ready (9p)"',
          "last=",
          "while :; do",
          '  if read seq sum size services 2>/dev/null < $W/share/update && [ "$seq" != "$last" ]; then',
          '    last=$seq; cp "$W/share/update-$seq.tar.gz" $W/update.tar.gz 2>/dev/null && apply $W/update.tar.gz "$seq" "$sum" "$size" "$services"',
          "  fi",
          "  usleep 200000",
          "done",
        ]
      : [
          '[ -c /dev/ttyS1 ] || { say "receiver: no /dev/ttyS1: no live updates"; exit 1; }',
          "stty -F /dev/ttyS1 raw -echo 2>/dev/null",
          "exec 3<>/dev/ttyS1",
          'say "receiver ready (serial)"',
          "echo MKBUNDLE-DEV-READY >&3",
          "while read -r magic seq sum size services <&3; do",
          '  [ "$magic" = MKBUNDLE-DEV ] || continue',
          '  case "$size" in ""|*[!0-9]*) continue ;; esac',
          `  [ "$size" -le ${MAX_UPDATE} ] || { say "update $seq refused: larger than ${MAX_UPDATE} bytes"; continue; }`,
          '  dd bs=1 count="$size" <&3 > $W/update.tar.gz 2>/dev/null',
          '  apply $W/update.tar.gz "$seq" "$sum" "$size" "$services"',
          '  echo "MKBUNDLE-DEV-OK $seq" >&3',
          "done",
        ];
  return [...common, ...loop, ""].join("\n");
}
