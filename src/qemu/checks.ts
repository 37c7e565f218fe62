// What `mkbundle test` waits for: regexes on the serial console and HTTP answers.
import { undiciLib } from "../util/lazy.js";

export interface HttpCheck {
  url: string;
  body: RegExp;
}

/** URL~REGEX: the regex starts after the first '~' that follows the host. */
export function parseHttpCheck(spec: string): HttpCheck {
  const scheme = /^https?:\/\/[^/]+/.exec(spec);
  const at = scheme ? spec.indexOf("~", scheme[0].length) : -1;
  if (!scheme || at < 0) throw new Error(`'${spec}' is not URL~REGEX, e.g. 'http://127.0.0.1:18080/~Hello'`);
  const url = spec.slice(0, at);
  const host = new URL(url).hostname;
  if (host !== "127.0.0.1" && host !== "localhost" && host !== "[::1]") throw new Error(`'${url}': HTTP checks go to the forwarded ports on 127.0.0.1 only`);
  return { url, body: new RegExp(spec.slice(at + 1)) };
}

/** One attempt: true when the URL answers 2xx with a body that matches. */
export async function httpCheckOnce(c: HttpCheck, timeoutMs = 2000): Promise<{ ok: boolean; last: string }> {
  try {
    const res = await undiciLib().request(c.url, { method: "GET", headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
    const text = await res.body.text();
    const ok = res.statusCode >= 200 && res.statusCode < 300 && c.body.test(text);
    return { ok, last: `HTTP ${res.statusCode}: ${text.slice(0, 200).replace(/\s+/g, " ")}` };
  } catch (e) {
    return { ok: false, last: (e as { code?: string }).code ?? (e as Error).message };
  }
}
