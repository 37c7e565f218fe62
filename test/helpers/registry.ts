// A real OCI registry for the tests: Debian's docker-registry (the CNCF distribution
// registry, installed by .ci/run) on 127.0.0.1, filesystem storage in a temporary directory,
// optionally with htpasswd (bcrypt, from apache2-utils' htpasswd) authentication.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { q, sh } from "./run.js";

export interface Registry {
  /** 127.0.0.1:PORT */
  host: string;
  /** The storage root: blobs are under docker/registry/v2/blobs/sha256/. */
  data: string;
  blobPath(digest: string): string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export async function startRegistry(dir: string, login?: { user: string; password: string }): Promise<Registry> {
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const data = join(dir, "data");
  const auth = login
    ? (() => {
        sh(`htpasswd -Bbn ${q(login.user)} ${q(login.password)} > ${q(join(dir, "htpasswd"))}`);
        return `auth:\n  htpasswd:\n    realm: mkbundle-test\n    path: ${join(dir, "htpasswd")}\n`;
      })()
    : "";
  const config = join(dir, "config.yml");
  writeFileSync(
    config,
    `version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${data}\n` +
      `http:\n  addr: 127.0.0.1:${port}\n  secret: mkbundle-test-secret\n${auth}`,
  );
  const child: ChildProcess = spawn("docker-registry", ["serve", config], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const host = `127.0.0.1:${port}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      const r = await fetch(`http://${host}/v2/`);
      if (r.status === 200 || r.status === 401) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline || child.exitCode !== null) {
      child.kill();
      throw new Error(`docker-registry did not start on ${host}: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    host,
    data,
    blobPath: (digest) => {
      const hex = digest.replace(/^sha256:/, "");
      return join(data, "docker/registry/v2/blobs/sha256", hex.slice(0, 2), hex, "data");
    },
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill();
      }),
  };
}
