// `mkbundle exec`'s guest half, in dev and debug images only (the prod audit refuses it): a
// busybox sh loop on the second serial port (/dev/ttyS1, which `mkbundle run -d` connects to a
// Unix socket in the guest's directory) that runs each command it is sent and answers with its
// exit status and output. A request is "MKBUNDLE-EXEC ID SIZE" and SIZE bytes of shell; the
// answer "MKBUNDLE-EXEC-OUT ID STATUS SIZE" and SIZE bytes (the first 1 MiB of the output).
import { EXEC_AGENT, MAX_EXEC_COMMAND, MAX_EXEC_OUTPUT } from "../tinycore/layout.js";
import { fileEntry, type Entry } from "../tree/entry.js";

const AGENT = [
  "#!/bin/sh",
  "# mkbundle exec's agent (dev and debug images): runs what `mkbundle exec` sends on /dev/ttyS1.",
  "[ -c /dev/ttyS1 ] || exit 0",
  "W=/tmp/mkbundle/exec",
  "mkdir -p $W",
  "stty -F /dev/ttyS1 raw -echo 2>/dev/null",
  "exec 3<>/dev/ttyS1",
  'echo "mkbundle: exec agent ready" > /dev/console',
  "while read -r magic id size <&3; do",
  '  [ "$magic" = MKBUNDLE-EXEC ] || continue',
  '  case "$size" in ""|*[!0-9]*) continue ;; esac',
  `  [ "$size" -le ${MAX_EXEC_COMMAND} ] || continue`,
  '  dd bs=1 count="$size" <&3 > $W/command 2>/dev/null',
  "  sh $W/command < /dev/null > $W/output 2>&1; status=$?",
  `  head -c ${MAX_EXEC_OUTPUT} $W/output > $W/answer`,
  '  echo "MKBUNDLE-EXEC-OUT $id $status $(wc -c < $W/answer)" >&3',
  "  cat $W/answer >&3",
  "done",
  "",
].join("\n");

/** The agent, and the line that starts it from bootlocal.sh. */
export function execAgent(epoch: number): { entries: Entry[]; start: string } {
  return {
    entries: [fileEntry(EXEC_AGENT, Buffer.from(AGENT), epoch, 0o700)],
    start: `/${EXEC_AGENT} > /var/log/mkbundle-exec.log 2>&1 &`,
  };
}
