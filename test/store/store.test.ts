import { createServer, request as httpRequest } from "node:http";
import { connect, type AddressInfo } from "node:net";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeProgress } from "../../src/store/progress.js";
import { mkbundleIn } from "../helpers/cli.js";
import { startMirror, type MirrorServer } from "../helpers/mirror-server.js";
import { fixturesDir } from "../helpers/paths.js";
import { tempDir } from "../helpers/tmp.js";

const { dir, write } = tempDir("mkbundle-store-");

describe("progress", () => {
  const capture = (tty: boolean, verbose = false) => {
    const out = new PassThrough();
    let text = "";
    out.on("data", (d: Buffer) => (text += d.toString()));
    let t = 0; // each step 200 ms later: past the bar's redraw throttle
    const p = makeProgress({
      tty,
      stream: out,
      now: () => (t += 200),
      ...(verbose ? { verbose } : {}),
    });
    p.begin("bash.tcz", 4096);
    p.bytes(2048, "bash.tcz");
    p.end("bash.tcz", { size: 2048, cached: false, ms: 250 });
    p.end("nano.tcz", { size: 100, cached: true, ms: 0 });
    p.finish();
    return text;
  };

  it("prints a line per downloaded file when not on a terminal; cached ones with -v", () => {
    expect(capture(false)).toBe(
      "fetched bash.tcz (2.0 KiB, 0.3 s)\n2 files, 1 downloaded (2.0 KiB), 1 from the cache\n",
    );
    expect(capture(false, true)).toBe(
      "fetched bash.tcz (2.0 KiB, 0.3 s)\ncached  nano.tcz (100 B)\n2 files, 1 downloaded (2.0 KiB), 1 from the cache\n",
    );
  });

  it("on a terminal, the last line shows no share of a transfer that never ended (it failed)", () => {
    const out = new PassThrough();
    let text = "";
    out.on("data", (d: Buffer) => (text += d.toString()));
    let t = 0;
    const p = makeProgress({ tty: true, stream: out, now: () => (t += 200) });
    p.begin("done.tcz", 100);
    p.bytes(100, "done.tcz");
    p.end("done.tcz", { size: 100, cached: false, ms: 10 });
    p.begin("failed.iso", 1000);
    p.bytes(720, "failed.iso");
    expect(text).toContain("(72%)");
    p.finish();
    const last = text.split("\r").pop()!;
    expect(last).not.toMatch(/%|failed\.iso/);
    expect(last).toContain("1 file, 1 downloaded");
  });

  it("says how far long transfers got every few seconds when not on a terminal", () => {
    const out = new PassThrough();
    let text = "";
    out.on("data", (d: Buffer) => (text += d.toString()));
    let t = 0;
    const p = makeProgress({ tty: false, stream: out, now: () => t });
    p.begin("big.iso", 10 * 1024 ** 2);
    p.begin("small.tcz");
    for (let i = 1; i <= 12; i++) {
      t = i * 1000;
      p.bytes(512 * 1024, "big.iso");
    }
    p.bytes(1000, "small.tcz");
    p.end("big.iso", { size: 6 * 1024 ** 2, cached: false, ms: 12_000 });
    p.end("small.tcz", { size: 1000, cached: false, ms: 12_000 });
    p.finish();
    expect(text.split("\n").filter((l) => l.startsWith("downloading"))).toEqual([
      "downloading big.iso 2.5 MiB of 10.0 MiB (25%), small.tcz 0 B (5 s)",
      "downloading big.iso 5.0 MiB of 10.0 MiB (50%), small.tcz 0 B (10 s)",
    ]);
    expect(text).toContain("2 files, 2 downloaded");
  });

  it("redraws a bar of files, bytes, rate and the current file's share on a terminal", () => {
    const t = capture(true);
    expect(t).toMatch(/\r\x1b\[K\[0 files\] 2\.0 KiB at [\d.]+ (B|KiB|MiB)\/s bash\.tcz 2\.0 KiB of 4\.0 KiB \(50%\)/);
    expect(t).toContain("[1 file]");
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
    const r = await mkbundleIn(["lock", m, "--mirror", mirror.url, "--work-dir", join(dir, "wd1")], {
      env: { HTTP_PROXY: proxyUrl, http_proxy: proxyUrl },
    });
    expect(r.code, r.stderr).toBe(0);
    const host = new URL(mirror.url).host;
    expect(
      proxied.some((p) => p === `CONNECT ${host}` || p === `${mirror.url}/4.x/x86/tcz/pv.tcz`),
      proxied.join("\n"),
    ).toBe(true);
    proxied.length = 0;
    const direct = await mkbundleIn(["lock", m, "--update", "--mirror", mirror.url, "--work-dir", join(dir, "wd2")], {
      env: { HTTP_PROXY: proxyUrl, NO_PROXY: "127.0.0.1" },
    });
    expect(direct.code, direct.stderr).toBe(0);
    expect(proxied).toEqual([]);
  });
});
