// What `mkbundle test` waits for: regexes on the serial console and HTTP answers.
import { usageError } from "../errors.js";
import { undiciLib } from "../io/lazy.js";

export interface HttpCheck {
  url: string;
  body: RegExp;
}

export function parseRegex(source: string, option: string): RegExp {
  try {
    return new RegExp(source);
  } catch (e) {
    throw usageError(
      `${option} '${source}' is not a regular expression: ${(e as Error).message.replace(/^Invalid regular expression: /, "")}`,
    );
  }
}

/** URL~REGEX: the regex starts after the first '~' that follows the host. */
export function parseHttpCheck(spec: string): HttpCheck {
  const scheme = /^https?:\/\/[^/]+/.exec(spec);
  const at = scheme ? spec.indexOf("~", scheme[0].length) : -1;
  if (!scheme || at < 0)
    throw usageError(`--http '${spec}' is not URL~REGEX`, "e.g. --http 'http://127.0.0.1:18080/~Hello'");
  const url = spec.slice(0, at);
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    throw usageError(`--http '${spec}': '${url}' is not a URL`);
  }
  if (host !== "127.0.0.1" && host !== "localhost" && host !== "[::1]")
    throw usageError(
      `--http '${url}': HTTP checks go to the forwarded ports on 127.0.0.1 only`,
      "forward one with --port HOST:GUEST",
    );
  return { url, body: parseRegex(spec.slice(at + 1), "--http") };
}

const TIMEOUTS = new Set(["UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT", "UND_ERR_CONNECT_TIMEOUT"]);

/** One attempt: true when the URL answers 2xx with a body that matches; `last` says what came back. */
export async function httpCheckOnce(c: HttpCheck, timeoutMs = 2000): Promise<{ ok: boolean; last: string }> {
  try {
    const res = await undiciLib().request(c.url, { method: "GET", headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
    const text = await res.body.text();
    const ok = res.statusCode >= 200 && res.statusCode < 300 && c.body.test(text);
    return { ok, last: `HTTP ${res.statusCode}: ${text.slice(0, 200).replace(/\s+/g, " ")}` };
  } catch (e) {
    const code = (e as { code?: string }).code ?? "";
    if (TIMEOUTS.has(code)) return { ok: false, last: `no answer within ${timeoutMs / 1000} s` };
    if (code === "ECONNREFUSED")
      return { ok: false, last: "connection refused (nothing listens on the forwarded port yet)" };
    if (code === "ECONNRESET" || code === "UND_ERR_SOCKET")
      return { ok: false, last: "the connection was closed without an answer" };
    return { ok: false, last: (e as Error).message || code };
  }
}
