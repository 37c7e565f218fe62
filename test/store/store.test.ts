import { createServer, request as httpRequest } from "node:http";
import { connect, type AddressInfo } from "node:net";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeProgress } from "../../src/store/progress.js";
import { mkbundleAsync } from "../helpers/cli.js";
import { startMirror, type MirrorServer } from "../helpers/mirror-server.js";
import { fixturesDir } from "../helpers/paths.js";
import { tempDir } from "../helpers/tmp.js";

const { dir, write } = tempDir("mkbundle-store-");

describe("progress", () => {
  const capture = (tty: boolean) => {
    const out = new PassThrough();
    let text = "";
    out.on("data", (d: Buffer) => (text += d.toString()));
    const p = makeProgress({ tty, stream: out as unknown as NodeJS.WriteStream });
    p.begin("bash.tcz");
    p.bytes(2048);
    p.end("bash.tcz", { size: 2048, cached: false, ms: 250 });
    p.end("nano.tcz", { size: 100, cached: true, ms: 0 });
    p.finish();
    return text;
  };

  it("prints one line per file when not on a terminal", () => {
    expect(capture(false)).toBe(
      "fetched bash.tcz (2.0 KiB, 0.3 s)\ncached  nano.tcz (100 B)\n2 files, 1 downloaded (2.0 KiB), 1 from the cache\n",
    );
  });

  it("redraws a bar of files, bytes and rate on a terminal", () => {
    const t = capture(true);
    expect(t).toMatch(/\r\x1b\[K\[\d+ files\] 2\.0 KiB [\d.]+ (B|KiB|MiB)\/s bash\.tcz/);
    expect(t.trimEnd().endsWith("2 files, 1 downloaded (2.0 KiB), 1 from the cache")).toBe(true);
  });
});

describe("HTTP_PROXY and NO_PROXY", () => {
  let mirror: MirrorServer;
  let proxyUrl: string;
  const proxied: string[] = [];
  const proxy = createServer((req, res) => {
    proxied.push(req.url ?? "");
    const target = new URL(req.url ?? "");
    const up = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname + target.search,
        method: req.method,
        headers: req.headers,
      },
      (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      },
    );
    up.on("error", () => res.writeHead(502).end());
    req.pipe(up);
  });

  // undici tunnels through the proxy with CONNECT, as it does for https.
  proxy.on("connect", (req, client, head) => {
    proxied.push(`CONNECT ${req.url}`);
    const [host, port] = (req.url ?? "").split(":");
    const upstream = connect(Number(port), host, () => {
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on("error", () => client.destroy());
    client.on("error", () => upstream.destroy());
  });

  beforeAll(async () => {
    mirror = await startMirror(join(fixturesDir(), "tinycore"));
    await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
    proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await mirror.close();
    proxy.closeAllConnections();
    await new Promise<void>((r) => proxy.close(() => r()));
  });

  it("sends downloads through the proxy, unless NO_PROXY names the host", { timeout: 30_000 }, async () => {
    const m = write("proxy/m.yaml", "name: p\nbase:\n  iso: Core-4.4.iso\nextensions:\n  builtin: [pv]\n");
    const r = await mkbundleAsync(["lock", m, "--mirror", mirror.url, "--work-dir", join(dir, "wd1")], {
      env: { HTTP_PROXY: proxyUrl, http_proxy: proxyUrl },
    });
    expect(r.code, r.stderr).toBe(0);
    const host = new URL(mirror.url).host;
    expect(
      proxied.some((p) => p === `CONNECT ${host}` || p === `${mirror.url}/4.x/x86/tcz/pv.tcz`),
      proxied.join("\n"),
    ).toBe(true);
    proxied.length = 0;
    const direct = await mkbundleAsync(
      ["lock", m, "--update", "--mirror", mirror.url, "--work-dir", join(dir, "wd2")],
      { env: { HTTP_PROXY: proxyUrl, NO_PROXY: "127.0.0.1" } },
    );
    expect(direct.code, direct.stderr).toBe(0);
    expect(proxied).toEqual([]);
  });
});
