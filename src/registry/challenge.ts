// WWW-Authenticate challenges as registries send them: `Basic realm="…"` or
// `Bearer realm="https://auth…/token",service="…",scope="repository:team/mk:pull,push"`.
export interface Challenge {
  scheme: "basic" | "bearer";
  params: Record<string, string>;
}

export function parseChallenge(header: string | undefined): Challenge | undefined {
  if (!header || header.length > 4096) return undefined;
  const m = /^\s*(Basic|Bearer)\b\s*(.*)$/i.exec(header);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  for (const p of m[2]!.matchAll(/([A-Za-z][\w-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g))
    params[p[1]!.toLowerCase()] = (p[2] ?? p[3] ?? "").replace(/\\(.)/g, "$1");
  return { scheme: m[1]!.toLowerCase() as Challenge["scheme"], params };
}
