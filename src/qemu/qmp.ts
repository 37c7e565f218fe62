// One command to a QEMU through its QMP socket (-qmp unix:PATH,server=on,wait=off): the
// greeting, qmp_capabilities, the command; bounded in time and in what is read.
import { connect } from "node:net";

export function qmpCommand(socket: string, command: string, timeoutMs = 5_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = connect(socket);
    let text = "";
    let step = 0;
    const done = (e?: Error) => {
      clearTimeout(timer);
      s.destroy();
      if (e) reject(e);
      else resolve();
    };
    const timer = setTimeout(
      () => done(new Error(`QEMU did not answer on ${socket} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    s.on("error", (e) => done(e));
    s.on("data", (d: Buffer) => {
      text += d.toString();
      if (text.length > 1 << 16) return done(new Error("QEMU's QMP answer is too long"));
      // One JSON object per line: the greeting, then an answer to each command.
      const lines = text.split("\n");
      text = lines.pop()!;
      for (const line of lines.filter((l) => l.trim())) {
        let msg: { QMP?: unknown; return?: unknown; error?: { desc?: string }; event?: unknown };
        try {
          msg = JSON.parse(line) as typeof msg;
        } catch {
          return done(new Error("QEMU's QMP socket sent something that is not JSON"));
        }
        if (msg.event) continue;
        if (msg.error) return done(new Error(`QEMU refused ${command}: ${msg.error.desc ?? "?"}`));
        if (step === 2 && msg.return) return done();
        const next = step === 0 && msg.QMP ? "qmp_capabilities" : step === 1 && msg.return ? command : undefined;
        if (next) {
          s.write(`${JSON.stringify({ execute: next })}\n`);
          step++;
        }
      }
    });
  });
}
