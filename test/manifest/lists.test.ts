import { describe, expect, it } from "vitest";
import { parseExtensionList } from "../../src/manifest/extension-list.js";
import { parseRazorConfig } from "../../src/manifest/razor-config.js";

describe("extension lists", () => {
  it("reads Razor's own lists (.tcz suffix, one per line)", () => {
    const r = parseExtensionList(
      "b.lst",
      "openssh.tcz\ndmidecode.tcz\nbash.tcz\nscsi-3.0.21-tinycore.tcz\nlibssl-0.9.8.tcz\n",
    );
    expect(r.diagnostics).toEqual([]);
    expect(r.extensions.map((e) => e.name)).toEqual([
      "openssh",
      "dmidecode",
      "bash",
      "scsi-3.0.21-tinycore",
      "libssl-0.9.8",
    ]);
  });

  it("tolerates comments, blank lines, trailing blanks, CRLF, tabs and no final newline", () => {
    const text = "# builtin extensions\r\n\r\nbash   \r\n\tdmidecode.tcz # hardware facts\r\n   \n# lshw\nnano";
    const r = parseExtensionList("b.lst", text);
    expect(r.diagnostics).toEqual([]);
    expect(r.extensions).toEqual([
      { name: "bash", line: 3, column: 1 },
      { name: "dmidecode", line: 4, column: 2 },
      { name: "nano", line: 7, column: 1 },
    ]);
  });

  it("accepts several names on a line, as Razor's $(cat list) did", () => {
    expect(parseExtensionList("m.lst", "procps ncurses\n").extensions.map((e) => [e.name, e.column])).toEqual([
      ["procps", 1],
      ["ncurses", 8],
    ]);
  });

  it("accepts an empty list", () => {
    expect(parseExtensionList("m.lst", "")).toEqual({ extensions: [], diagnostics: [] });
  });

  it("names the file, line and column of a bad entry", () => {
    const r = parseExtensionList("b.lst", "bash\n../etc/passwd\n");
    expect(r.diagnostics).toEqual([
      {
        severity: "error",
        file: "b.lst",
        line: 2,
        column: 1,
        path: "",
        message: "'../etc/passwd' is not an extension name",
        hint: "one Tiny Core extension per line, like bash or bash.tcz; '#' starts a comment",
      },
    ]);
  });
});

describe("Razor -c config files", () => {
  it("reads KEY=VALUE lines with comments, export and quotes", () => {
    const r = parseRazorConfig(
      "c.cfg",
      "# config\nMK_BUNDLE_TYPE=prod\nexport MK_BUNDLE_TCL_MIRROR_URI='http://m/tc'\n\nMK_BUNDLE_GEM_SERVER_URI=\"http://gems\"\n",
    );
    expect(r.diagnostics).toEqual([]);
    expect(Object.fromEntries([...r.values].map(([k, v]) => [k, v.value]))).toEqual({
      MK_BUNDLE_TYPE: "prod",
      MK_BUNDLE_TCL_MIRROR_URI: "http://m/tc",
      MK_BUNDLE_GEM_SERVER_URI: "http://gems",
    });
  });

  it("strips a trailing # comment as the shell would, and keeps a # inside quotes or a word", () => {
    const r = parseRazorConfig(
      "c.cfg",
      "MK_BUNDLE_TYPE=debug  # for the lab\nMK_BUNDLE_TC_PASSWD='a # b'   # quoted\nMK_BUNDLE_TCL_MIRROR_URI=http://m/tc#frag\n",
    );
    expect(r.diagnostics).toEqual([]);
    expect(Object.fromEntries([...r.values].map(([k, v]) => [k, v.value]))).toEqual({
      MK_BUNDLE_TYPE: "debug",
      MK_BUNDLE_TC_PASSWD: "a # b",
      MK_BUNDLE_TCL_MIRROR_URI: "http://m/tc#frag",
    });
  });

  it("never evaluates shell and says so", () => {
    const r = parseRazorConfig("c.cfg", "MK_BUNDLE_TC_PASSWD=$(rm -rf /)\n");
    expect(r.values.get("MK_BUNDLE_TC_PASSWD")?.value).toBe("$(rm -rf /)");
    expect(r.diagnostics.map((d) => [d.severity, d.line, d.message])).toEqual([
      // The password's value is not repeated, not even here.
      ["warning", 1, "MK_BUNDLE_TC_PASSWD: the value is taken literally ($ and backquotes included)"],
    ]);
  });

  it("warns about unknown and obsolete settings and rejects lines that are not KEY=VALUE", () => {
    const r = parseRazorConfig("c.cfg", "MK_BUNDLE_RE_USE_PREV_DL=yes\nMK_BUNDEL_TYPE=prod\nnot a setting\n");
    expect(r.diagnostics.map((d) => [d.severity, d.line, d.message])).toEqual([
      ["warning", 1, "MK_BUNDLE_RE_USE_PREV_DL is not used by mkbundle and is ignored"],
      ["warning", 2, "unknown setting MK_BUNDEL_TYPE is ignored"],
      ["error", 3, "'not a setting' is not a KEY=VALUE line"],
    ]);
  });
});
