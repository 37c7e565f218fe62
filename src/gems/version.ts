// RubyGems versions and requirements (Gem::Version, Gem::Requirement), the subset a
// compact index needs: =, !=, >, <, >=, <=, ~>; prereleases only when asked for.
import { MkError } from "../errors.js";

type Segment = number | string;

function segments(v: string): Segment[] {
  return (v.match(/[0-9]+|[a-z]+/gi) ?? []).map((s) => (/^[0-9]+$/.test(s) ? Number(s) : s));
}

export const isPrerelease = (v: string): boolean => /[a-z]/i.test(v);

/** Gem::Version#<=>: numeric segments compare as numbers, letters sort before numbers, trailing zeros ignored. */
export function compareVersions(a: string, b: string): number {
  const trim = (s: Segment[]) => {
    const out = [...s];
    while (out.length > 1 && out[out.length - 1] === 0) out.pop();
    return out;
  };
  const [x, y] = [trim(segments(a)), trim(segments(b))];
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const [p, q] = [x[i] ?? 0, y[i] ?? 0];
    if (p === q) continue;
    if (typeof p === "number" && typeof q === "number") return p - q;
    if (typeof p === "string" && typeof q === "string") return p < q ? -1 : 1;
    return typeof p === "string" ? -1 : 1; // "1.0.a" < "1.0"
  }
  return 0;
}

/** ~> 1.2.3 -> 1.3; ~> 1 -> 2 (Gem::Version#bump). */
export function bump(v: string): string {
  const s = segments(v);
  while (s.some((x) => typeof x === "string")) s.pop();
  if (s.length > 1) s.pop();
  s[s.length - 1] = (s[s.length - 1] as number) + 1;
  return s.join(".");
}

export interface Constraint {
  op: "=" | "!=" | ">" | "<" | ">=" | "<=" | "~>";
  version: string;
}

export function parseRequirement(text: string): Constraint[] {
  const parts = text.split(/\s*[,&]\s*/).filter(Boolean);
  return parts.map((p) => {
    const m = /^\s*(=|!=|>=|<=|>|<|~>)?\s*([0-9][0-9A-Za-z.]*)\s*$/.exec(p);
    if (!m)
      throw new MkError("resolve", `'${p}' is not a RubyGems requirement`, {
        hint: "like '>= 1.7.7', '~> 2.0' or '!= 1.2'",
      });
    return { op: (m[1] ?? "=") as Constraint["op"], version: m[2]! };
  });
}

export function satisfies(v: string, c: Constraint): boolean {
  const d = compareVersions(v, c.version);
  switch (c.op) {
    case "=":
      return d === 0;
    case "!=":
      return d !== 0;
    case ">":
      return d > 0;
    case "<":
      return d < 0;
    case ">=":
      return d >= 0;
    case "<=":
      return d <= 0;
    case "~>":
      return d >= 0 && compareVersions(v, bump(c.version)) < 0;
  }
}

export const describeConstraints = (cs: readonly Constraint[]): string =>
  cs.length ? cs.map((c) => `${c.op} ${c.version}`).join(", ") : ">= 0";
