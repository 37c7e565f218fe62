// `mkbundle exec NAME -- CMD`: a command run by the exec agent of a background guest
// (overlay/exec-agent.ts) through the guest's second serial port, which QEMU connects to
// exec.sock in the guest's directory. Waits for the agent to say it is ready on the console,
// sends the command, reads the answer: its exit status and output, bounded in size and time.
import { connect } from "node:net";
import { existsSync, readFileSync, statSync } from "node:fs";
import { MkError } from "../errors.js";
import { MAX_EXEC_COMMAND, MAX_EXEC_OUTPUT } from "../tinycore/layout.js";
import { consoleLogOf, execSocketOf, guestState, socketPath } from "./background.js";

const READY = "mkbundle: exec agent ready";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Whether the console has said the agent is ready (read from its end, bounded). */
function agentReady(log: string): boolean {
  if (!existsSync(log)) return false;
  const size = statSync(log).size;
  const text = readFileSync(log)
    .subarray(Math.max(0, size - 16 * 1024 * 1024))
    .toString("latin1");
  return text.includes(READY);
}

export async function execInGuest(
  workDir: string,
  name: string,
  command: string,
  timeoutS: number,
): Promise<{ status: number; output: Buffer }> {
  const g = guestState(workDir, name);
  if (g.state !== "running")
    throw new MkError("usage", `guest ${name} is not running (it exited)`, { hint: "mkbundle ps" });
  const bytes = Buffer.from(command);
  if (bytes.length > MAX_EXEC_COMMAND)
    throw new MkError("usage", `a command of ${bytes.length} bytes; at most ${MAX_EXEC_COMMAND}`);
  const deadline = Date.now() + timeoutS * 1000;
  while (!agentReady(consoleLogOf(workDir, name))) {
    if (Date.now() > deadline)
      throw new MkError("boot", `guest ${name}: no exec agent said it was ready within ${timeoutS} s`, {
        hint: "exec works on dev and debug images (a prod image has no agent); mkbundle logs shows its console",
      });
    await sleep(200);
  }
  const id = `${process.pid}${Date.now() % 100000}`;
  return new Promise((resolve, reject) => {
    const s = connect(socketPath(execSocketOf(workDir, name)));
    let got = Buffer.alloc(0);
    let header: { status: number; size: number; at: number } | undefined;
    const timer = setTimeout(
      () => finish(new MkError("boot", `guest ${name}: no answer to the command within ${timeoutS} s`)),
      Math.max(1, deadline - Date.now()),
    );
    const finish = (e?: Error, r?: { status: number; output: Buffer }) => {
      clearTimeout(timer);
      s.destroy();
      if (e) reject(e);
      else resolve(r!);
    };
    s.on("error", (e) => finish(new MkError("boot", `guest ${name}: its exec socket: ${e.message}`)));
    s.on("connect", () => {
      s.write(`MKBUNDLE-EXEC ${id} ${bytes.length}\n`);
      s.write(bytes);
    });
    s.on("data", (d: Buffer) => {
      got = Buffer.concat([got, d]);
      if (!header) {
        // Whatever came before our answer's line (an earlier, abandoned answer) is skipped.
        const m = new RegExp(`MKBUNDLE-EXEC-OUT ${id} (\\d{1,3}) (\\d{1,8})\\n`).exec(got.toString("latin1"));
        if (!m) {
          if (got.length > 2 * MAX_EXEC_OUTPUT) got = got.subarray(got.length - 256);
          return;
        }
        header = { status: Number(m[1]), size: Number(m[2]), at: m.index + m[0].length };
        if (header.size > MAX_EXEC_OUTPUT)
          return finish(new MkError("format", `guest ${name}: an answer of ${header.size} bytes`));
      }
      if (got.length - header.at >= header.size)
        finish(undefined, { status: header.status, output: got.subarray(header.at, header.at + header.size) });
    });
  });
}
