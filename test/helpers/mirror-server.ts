// A real HTTP server on 127.0.0.1 serving a directory as a Tiny Core mirror, with Range,
// ETag/If-None-Match and switchable faults for the download tests.
import { createHash } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join, normalize } from "node:path";

type Fault =
  | "drop-mid-body" // first response: headers and half the body, then the connection is cut
  | "500-once" // first request answers 500
  | "wrong-bytes" // serves the file with one byte changed
  | "404" // always 404
  | "stall" // headers sent, then nothing
  | "drop-then-200" // first response cut mid-body; later ones ignore Range and send the whole file with 200
  | "endless" // 200 with no length, then bytes for as long as the client reads
  | "drip"; // 100 bytes a second

export interface MirrorServer {
  url: string;
  faults: Map<string, Fault>;
  /** Every request: "GET /4.x/x86/tcz/bash.tcz range=bytes=100-" */
  log: string[];
  close(): Promise<void>;
}

export async function startMirror(root: string): Promise<MirrorServer> {
  const faults = new Map<string, Fault>();
  const fired = new Set<string>();
  const log: string[] = [];
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    log.push(
      `${req.method} ${path}${req.headers.range ? ` range=${req.headers.range}` : ""}${req.headers["if-none-match"] ? " conditional" : ""}`,
    );
    const fault = faults.get(path);
    const file = join(root, normalize(path).replace(/^(\.\.[/\\])+/, ""));
    let body: Buffer;
    try {
      if (fault === "404" || !statSync(file).isFile()) throw new Error("404");
      body = readFileSync(file);
    } catch {
      res.writeHead(404).end("not found");
      return;
    }
    if (fault === "500-once" && !fired.has(path)) {
      fired.add(path);
      res.writeHead(500).end("boom");
      return;
    }
    if (fault === "wrong-bytes") {
      body = Buffer.from(body);
      body[body.length >> 1] = body[body.length >> 1]! ^ 0xff;
    }
    const etag = `"${createHash("sha256").update(body).digest("hex").slice(0, 16)}"`;
    if (req.headers["if-none-match"] === etag) {
      res.writeHead(304, { etag }).end();
      return;
    }
    if (fault === "stall") {
      res.writeHead(200, { "content-length": body.length, etag });
      res.flushHeaders();
      return; // never sends the body
    }
    if (fault === "endless") {
      res.writeHead(200);
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      const more = () => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once("drain", more);
      };
      more();
      return;
    }
    if (fault === "drip") {
      res.writeHead(200, { "content-length": body.length });
      let at = 0;
      const timer = setInterval(() => {
        if (res.destroyed || at >= body.length) return clearInterval(timer);
        res.write(body.subarray(at, at + 100));
        at += 100;
      }, 1000);
      res.on("close", () => clearInterval(timer));
      return;
    }
    if (fault === "drop-then-200") {
      if (!fired.has(path)) {
        fired.add(path);
        res.writeHead(200, { "content-length": body.length, etag });
        res.write(body.subarray(0, body.length >> 1), () => res.socket?.destroy());
        return;
      }
      res.writeHead(200, { "content-length": body.length, etag }); // the Range header ignored, as python3 -m http.server does
      res.end(body);
      return;
    }
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? "");
    if (range && (!req.headers["if-range"] || req.headers["if-range"] === etag)) {
      const start = Number(range[1]);
      res.writeHead(206, {
        "content-length": body.length - start,
        "content-range": `bytes ${start}-${body.length - 1}/${body.length}`,
        etag,
      });
      res.end(body.subarray(start));
      return;
    }
    if (fault === "drop-mid-body" && !fired.has(path)) {
      fired.add(path);
      res.writeHead(200, { "content-length": body.length, etag });
      res.write(body.subarray(0, body.length >> 1), () => res.socket?.destroy());
      return;
    }
    res.writeHead(200, { "content-length": body.length, etag, "last-modified": new Date(0).toUTCString() });
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    faults,
    log,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
