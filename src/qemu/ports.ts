// Host ports for --port forwards, checked before QEMU starts: QEMU's own message for a port
// in use is easy to miss, and with it gone a program already listening there would answer
// the HTTP checks in the guest's place.
import { createServer } from "node:net";
import { MkError } from "../errors.js";
import type { PortForward } from "./args.js";

export async function checkHostPorts(ports: readonly PortForward[]): Promise<void> {
  for (const p of ports) {
    const problem = await tryListen(p.host);
    if (problem)
      throw new MkError("usage", `--port ${p.host}:${p.guest}: port ${p.host} on 127.0.0.1 ${problem}`, {
        file: "mkbundle",
        hint: "another program listens there (ss -ltnp shows which); choose a free host port",
      });
  }
}

function tryListen(port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", (e: NodeJS.ErrnoException) =>
      resolve(e.code === "EADDRINUSE" ? "is already in use" : `cannot be used (${e.code ?? e.message})`),
    );
    server.listen({ port, host: "127.0.0.1", exclusive: true }, () => server.close(() => resolve(undefined)));
  });
}
