import { describe, expect, it } from "vitest";
import { parseInfoFile } from "../../src/gems/compact-index.js";
import { bump, compareVersions, parseRequirement, satisfies } from "../../src/gems/version.js";

const ok = (v: string, req: string) => parseRequirement(req).every((c) => satisfies(v, c));

describe("RubyGems versions", () => {
  it("compares like Gem::Version", () => {
    expect(compareVersions("1.10", "1.9")).toBeGreaterThan(0);
    expect(compareVersions("1.0", "1.0.0")).toBe(0);
    expect(compareVersions("1.0.a", "1.0")).toBeLessThan(0);
    expect(compareVersions("2.0.0.rc1", "2.0.0.rc2")).toBeLessThan(0);
    expect(compareVersions("2.0.0.rc2", "2.0.0")).toBeLessThan(0);
  });

  it("bumps for ~>", () => {
    expect(bump("1.2.3")).toBe("1.3");
    expect(bump("1.2")).toBe("2");
    expect(bump("1")).toBe("2");
  });

  it("matches every operator and lists of them", () => {
    expect(ok("1.7.7", ">= 1.7.7")).toBe(true);
    expect(ok("1.7.6", ">= 1.7.7")).toBe(false);
    expect(ok("1.2.9", "~> 1.2.3")).toBe(true);
    expect(ok("1.3.0", "~> 1.2.3")).toBe(false);
    expect(ok("13.1.0", "~> 13.0, != 13.0.6")).toBe(true);
    expect(ok("13.0.6", "~> 13.0, != 13.0.6")).toBe(false);
    expect(ok("1.0", "= 1.0.0")).toBe(true);
    expect(ok("0.9", "< 1")).toBe(true);
    expect(ok("1", "> 1")).toBe(false);
    expect(ok("2", "<= 2.0")).toBe(true);
    expect(() => parseRequirement("=> 1")).toThrow(/not a RubyGems requirement/);
  });
});

describe("compact index", () => {
  it("parses versions, platforms, dependencies and checksums", () => {
    const sha = "a".repeat(64);
    const r = parseInfoFile(
      `created_at: x\n---\n1.0.0 |checksum:${sha}\n1.1.0 json_pure:>= 1.5&< 3,daemons:~> 1.1|checksum:${sha},ruby:>= 1.9\n1.1.0-java |checksum:${sha}\n`,
    );
    expect(r.map((x) => [x.version, x.platform, x.deps.map((d) => d.name)])).toEqual([
      ["1.0.0", "ruby", []],
      ["1.1.0", "ruby", ["json_pure", "daemons"]],
      ["1.1.0", "java", []],
    ]);
    expect(r[1]!.deps[0]!.constraints).toEqual([
      { op: ">=", version: "1.5" },
      { op: "<", version: "3" },
    ]);
    expect(r[0]!.sha256).toBe(sha);
  });
});
