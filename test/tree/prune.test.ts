// prune: globs decided per path by the last matching rule; directories and hard links' files
// stay while something needs them; hostile globs are one-line errors at their index.
import { describe, expect, it } from "vitest";
import { MkError } from "../../src/errors.js";
import { prune, pruneRules, removingRule, ruleEffects } from "../../src/tree/prune.js";
import { fileEntry, type Entry } from "../../src/tree/entry.js";

const dir = (path: string): Entry => ({ path, type: "dir", mode: 0o755, uid: 0, gid: 0, mtime: 0, size: 0 });
const file = (path: string, bytes = 10) => fileEntry(path, Buffer.alloc(bytes), 0);

describe("prune globs", () => {
  const rules = pruneRules([
    "usr/share/doc/**",
    "**/*.a",
    "usr/local/share/locale/**",
    "!usr/local/share/locale/C/**",
    "a/**/b",
    "x?.t[xt]",
  ]);
  it.each([
    ["usr/share/doc", "usr/share/doc/**"],
    ["usr/share/doc/a/b", "usr/share/doc/**"],
    ["usr/share/docs", undefined],
    ["lib/libc.a", "**/*.a"],
    ["libc.a", "**/*.a"],
    ["x/y.a.b", undefined],
    ["usr/local/share/locale/de/x.mo", "usr/local/share/locale/**"],
    ["usr/local/share/locale/C", undefined],
    ["usr/local/share/locale/C/LC_MESSAGES/x.mo", undefined],
    ["a/b", "a/**/b"],
    ["a/x/y/b", "a/**/b"],
    ["a/bb", undefined],
    ["xy.t[xt]", "x?.t[xt]"],
    ["xy.tx", undefined],
    ["xyz.t[xt]", undefined],
  ])("%s: %s", (path, glob) => {
    expect(removingRule(rules, path)?.glob).toBe(glob);
  });

  it("keeps directories that hold kept files, and the file of a kept hard link", () => {
    const entries: Entry[] = [
      dir("usr"),
      dir("usr/local"),
      dir("usr/local/share"),
      dir("usr/local/share/locale"),
      dir("usr/local/share/locale/de"),
      file("usr/local/share/locale/de/x.mo", 100),
      dir("usr/local/share/locale/C"),
      file("usr/local/share/locale/C/x.mo", 7),
      file("lib/libz.a", 1000),
      { ...dir("bin/z"), type: "hardlink", linkTarget: "lib/libz.a" },
    ];
    const p = prune(entries, rules);
    expect(p.kept.map((e) => e.path)).toEqual([
      "usr",
      "usr/local",
      "usr/local/share",
      "usr/local/share/locale",
      "usr/local/share/locale/C",
      "usr/local/share/locale/C/x.mo",
      "lib/libz.a",
      "bin/z",
    ]);
    expect(ruleEffects(rules, [{ entries, pruned: p }])).toEqual([
      { glob: "usr/share/doc/**", index: 0, files: 0, bytes: 0 },
      { glob: "**/*.a", index: 1, files: 0, bytes: 0 },
      { glob: "usr/local/share/locale/**", index: 2, files: 2, bytes: 100 },
      { glob: "a/**/b", index: 4, files: 0, bytes: 0 },
      { glob: "x?.t[xt]", index: 5, files: 0, bytes: 0 },
    ]);
  });

  it.each(["/etc/**", "a//b", "../x", "a/../../b", "!", "!/x", "x".repeat(5000)])("refuses %s", (g) => {
    expect(() => pruneRules([g])).toThrow(MkError);
    expect(() => pruneRules(["ok/**", g])).toThrow(/^prune\[1\]: /);
  });

  it("answers a glob made to blow up a backtracking matcher (one would not finish)", () => {
    const r = pruneRules(["**/".repeat(200) + "*a*a*a*a*a*a*a*a*b"]);
    expect(removingRule(r, `${"a/".repeat(300)}${"a".repeat(2000)}`)).toBeUndefined();
    expect(removingRule(r, `${"a/".repeat(300)}${"a".repeat(2000)}b`)?.index).toBe(0);
  });
});
