// The acceptance commands of issue 2, run through the built binary as a user would.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { mkbundle } from "../helpers/cli.js";
import { fixturesDir, repoRoot } from "../helpers/paths.js";
import { tempDir } from "../helpers/tmp.js";

const { dir, write } = tempDir();
const b = write("b.lst", "# builtin\nopenssh.tcz\nbash\n");
const m = write("m.lst", "procps\n");

describe("mkbundle --help", () => {
  it("lists every command and Razor's long flags", () => {
    const r = mkbundle(["--help"]);
    expect(r.code).toBe(0);
    for (const cmd of [
      "validate",
      "show",
      "init",
      "bundle",
      "rebuild-iso",
      "build",
      "lock",
      "plan",
      "ls",
      "cat",
      "run",
      "test",
      "cache",
      "clean",
    ]) {
      expect(r.stdout).toMatch(new RegExp(`^  ${cmd} `, "m"));
    }
    for (const flag of [
      "--builtin-list",
      "--mirror-list",
      "--build-prod-image",
      "--build-debug-image",
      "--tc-passwd",
      "--config",
      "--reuse-prev-dl",
      "--verbose",
      "--help",
      "--dry-run",
      "--mirror",
      "--work-dir",
      "--out",
      "--quiet",
    ]) {
      expect(r.stdout).toContain(flag);
    }
  });

  it("groups the top-level options: Razor's flags, global options, download options", () => {
    const r = mkbundle(["--help"]);
    const razor = r.stdout.indexOf("Razor's flags");
    const global = r.stdout.indexOf("Global options");
    const download = r.stdout.indexOf("Download options");
    expect([razor, global, download].every((i) => i > 0)).toBe(true);
    expect(r.stdout.slice(razor, global)).toContain("--builtin-list");
    expect(r.stdout.slice(razor, global)).toContain("--arch <arch>");
    expect(r.stdout.slice(global, download)).toContain("--work-dir");
    expect(r.stdout.slice(download)).toContain("--download-timeout");
  });

  it("a command's help shows its own options once, no Razor flags, and where the rest are", () => {
    for (const command of ["validate", "build", "test", "lock", "cache gc", "ls"]) {
      const r = mkbundle([...command.split(" "), "--help"]);
      expect(r.code).toBe(0);
      expect(r.stdout).not.toContain("--builtin-list");
      expect(r.stdout).toContain("Global options and Razor's flags: mkbundle --help");
      for (const option of ["--out <dir>", "--mirror <url|dir>", "-q, --quiet"])
        expect(r.stdout.split(option).length, `${command}: ${option}`).toBe(2);
    }
    // One --timeout meaning per command: test's is the boot's; downloads have their own name.
    const test = mkbundle(["test", "--help"]).stdout;
    expect(test.match(/--timeout/g)).toHaveLength(1);
    expect(test).not.toContain("--download-timeout");
    expect(mkbundle(["lock", "--help"]).stdout).toMatch(/--download-timeout <seconds>/);
    expect(mkbundle(["validate", "--help"]).stdout).toContain("--json");
  });

  it("suggests the command or option that was meant", () => {
    const command = mkbundle(["biuld"]);
    expect(command.code).toBe(2);
    expect(command.stderr).toContain("mkbundle biuld: is not a command (did you mean 'mkbundle build'?)");
    const option = mkbundle(["validate", "--jsno", "x.yaml"]);
    expect(option.code).toBe(2);
    expect(option.stderr).toMatch(/unknown option '--jsno'\n\(Did you mean --json\?\)/);
  });

  it("prints the help, exit 2, when run with nothing at all", () => {
    const r = mkbundle([]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("Usage: mkbundle [options] [command]");
  });

  it("rejects an unknown command and an unknown option with exit 2", () => {
    expect(mkbundle(["biuld"]).code).toBe(2);
    expect(mkbundle(["validate", "--bogus", "x"]).code).toBe(2);
  });
});

describe("--json", () => {
  it("every command indents its JSON the same way (two spaces)", () => {
    const m = write("json.yaml", "name: a\nversion: 1.0.0\n");
    const iso = join(fixturesDir(), "tinycore/4.x/x86/release/Core-4.4.iso");
    for (const args of [
      ["validate", "--json", m],
      ["show", "--json", m],
      ["ls", "--json", iso],
    ]) {
      const r = mkbundle(args);
      expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(0);
      const indents = new Set(
        r.stdout
          .split("\n")
          .map((l) => /^ */.exec(l)![0].length)
          .filter((n) => n > 0),
      );
      expect(Math.min(...indents), args.join(" ")).toBe(2);
      expect(
        [...indents].every((n) => n % 2 === 0),
        args.join(" "),
      ).toBe(true);
      expect(() => JSON.parse(r.stdout) as unknown).not.toThrow();
    }
  });
});

describe("mkbundle validate", () => {
  it("accepts every example in manifests/", () => {
    const files = readdirSync(join(repoRoot, "manifests"))
      .filter((f) => f.endsWith(".yaml"))
      .map((f) => join("manifests", f));
    expect(files.length).toBeGreaterThanOrEqual(3);
    const r = mkbundle(["validate", "--strict", ...files], { env: { MK_TC_PASSWD: "for-razor-dev" } });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  });

  it("warns about what a build needs that no download tells (a version, password.env set); --strict makes them errors", () => {
    const f = write(
      "unready.yaml",
      "name: a\nflavour: dev\npassword:\n  env: MK_TEST_UNSET_PW\nfiles:\n  - path: /x\n    extract: { extension: util-linux, path: usr/../../etc/shadow }\n",
    );
    const bad = mkbundle(["validate", f]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`${f}:7:45: files[0].extract.path: 'usr/../../etc/shadow' contains '..'`);
    writeFileSync(f, readFileSync(f, "utf8").replace("usr/../../etc/shadow", "usr/local/sbin/sfdisk"));
    const r = mkbundle(["validate", f]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`${f}:1:1: warning: no version: mkbundle build and rebuild-iso need one`);
    expect(r.stderr).toContain(
      `${f}:4:8: warning: password.env: names MK_TEST_UNSET_PW, which is not set here: a build fails without it`,
    );
    expect(r.stdout).toContain(`${f}: valid (2 warnings)`);
    const strict = mkbundle(["validate", "--strict", f]);
    expect(strict.code).toBe(2);
    expect(mkbundle(["validate", "--strict", f], { env: { MK_TEST_UNSET_PW: "pw" } }).stderr).toMatch(/no version/);
  });

  it("warns that boot.uefi cannot work on a 32-bit base, at the key; not on x86_64", () => {
    const loader = `{ url: /usr/lib/systemd/boot/efi/systemd-bootx64.efi, sha256: ${"ab".repeat(32)} }`;
    const f = write("uefi32.yaml", `name: a\nversion: 1.0.0\nboot:\n  uefi:\n    loader: ${loader}\n`);
    const r = mkbundle(["validate", f]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`${f}:4:3: warning: boot.uefi: boot.uefi needs an x86_64 kernel with an EFI stub`);
    const g = write(
      "uefi64.yaml",
      `name: a\nversion: 1.0.0\nbase:\n  arch: x86_64\nboot:\n  uefi:\n    loader: ${loader}\n`,
    );
    expect(mkbundle(["validate", "--strict", g]).stderr).toBe("");
    // A loader of neither shape is told in the words of the shape its keys pick.
    const h = write("uefi-bad.yaml", `name: a\nboot:\n  uefi:\n    loader: { extension: systemd-boot }\n`);
    const bad = mkbundle(["validate", h]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe(
      `${h}:4:13: boot.uefi.loader: missing required key 'path'\nerror: 1 of 1 manifest invalid\n`,
    );
  });

  it("exits 2 with FILE:4:COL and a suggestion for a misspelt key", () => {
    const f = write("typo.yaml", "name: a\nversion: 1.0.0\nflavour: dev\nextenions:\n  builtin: [bash]\n");
    const r = mkbundle(["validate", f]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${f}:4:1: extenions: unknown key 'extenions' (did you mean 'extensions'?)`);
  });

  it("exits 2 with a quoting hint for mode: 0755", () => {
    const f = write("mode.yaml", "name: a\nfiles:\n  - path: /x\n    content: y\n    mode: 0755\n");
    const r = mkbundle(["validate", f]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/mode\.yaml:5:11: files\[0\]\.mode: .*a mode is a quoted octal string like "0755"/);
  });

  it("reports a bad name, flavour and arch at once, each with its position", () => {
    const f = write("three.yaml", "name: Bad_Name\nflavour: production\nbase:\n  arch: arm\n");
    const r = mkbundle(["validate", f]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${f}:1:7: name:`);
    expect(r.stderr).toContain(`${f}:2:10: flavour:`);
    expect(r.stderr).toContain(`${f}:4:9: base.arch:`);
    expect(r.stderr).not.toMatch(/\bat .*\.js:\d+/); // no stack trace
  });

  it("prints machine-readable results with --json", () => {
    const good = write("good.yaml", "name: good\n");
    const bad = write("bad.yaml", "name: BAD\n");
    const r = mkbundle(["validate", "--json", good, bad]);
    expect(r.code).toBe(2);
    const out = JSON.parse(r.stdout) as {
      file: string;
      valid: boolean;
      diagnostics: { line: number; path: string }[];
    }[];
    expect(out.map((o) => [o.file, o.valid])).toEqual([
      [good, true],
      [bad, false],
    ]);
    expect(out[1]!.diagnostics[0]).toMatchObject({ line: 1, column: 7, path: "name", severity: "error" });
  });

  it("names an unreadable manifest", () => {
    const r = mkbundle(["validate", join(dir, "nope.yaml")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("nope.yaml: manifest does not exist");
  });
});

describe("mkbundle show and init", () => {
  it("show prints the resolved manifest with defaults, honouring --mirror", () => {
    const r = mkbundle(["show", "manifests/hello-service.yaml", "--mirror", "/srv/tc"]);
    expect(r.code).toBe(0);
    const shown = parse(r.stdout) as Record<string, unknown>;
    expect(shown).toMatchObject({
      name: "hello-service",
      flavour: "prod",
      mirror: "/srv/tc",
      extensions: { builtin: [], mirror: [] },
    });
    expect((shown["services"] as { log: string }[])[0]!.log).toBe("/dev/ttyS0");
  });

  it("show prints what will really be built: prod's builtin list without openssh, the epoch's source, the output names", () => {
    const r = mkbundle(["show", "manifests/razor-prod.yaml"]);
    expect(r.code, r.stderr).toBe(0);
    const shown = parse(r.stdout) as { extensions: { builtin: string[] }; epoch: number };
    expect(shown.extensions.builtin).toEqual(["bash", "dmidecode", "lshw", "libssl-0.9.8"]);
    expect(r.stdout).toContain("# flavour prod leaves out of extensions.builtin: openssh, usb-utils\n");
    expect(r.stdout).toContain(
      "# flavour prod: tcLocked true, consoleAutologin false, audited true, bootLineEditable false\n",
    );
    expect(r.stdout).toContain("# epoch 1577836800 (2020-01-01T00:00:00.000Z) from the default");
    expect(r.stdout).toContain(
      "# outputs in build-files/: razor-microkernel-bundle-prod.tar.gz, rz_mk_prod-image.0.9.0.1.iso, rz_mk_prod-image.0.9.0.1.spdx.json, pxe/razor-microkernel-prod-0.9.0.1/, SHA256SUMS",
    );
    const sde = mkbundle(["show", "manifests/razor-prod.yaml", "--json"], { env: { SOURCE_DATE_EPOCH: "1700000000" } });
    const json = JSON.parse(sde.stdout) as {
      manifest: { epoch: number };
      derived: { epoch: { value: number; source: string }; flavour: Record<string, unknown> };
    };
    expect(json.derived.flavour).toMatchObject({ name: "prod", tcLocked: true, audited: true });
    expect(json.manifest.epoch).toBe(1700000000);
    expect(json.derived.epoch).toEqual({ value: 1700000000, source: "SOURCE_DATE_EPOCH" });
  });

  it("show redacts password hashes", () => {
    const f = write("hash.yaml", 'name: a\npassword:\n  hash: "$6$abc$defghijklmnop"\n');
    const r = mkbundle(["show", f]);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain("defghijklmnop");
    expect(r.stdout).toContain("<redacted>");
  });

  it("init writes a commented manifest that validates, and never overwrites without --force", () => {
    const target = join(dir, "my-image");
    const r = mkbundle(["init", target]);
    expect(r.code).toBe(0);
    const file = join(target, "mkbundle.yaml");
    const text = readFileSync(file, "utf8");
    expect(text).toMatch(/^# yaml-language-server: \$schema=.*schemas\/manifest\.schema\.json$/m);
    expect(text).toContain("name: my-image");
    expect(mkbundle(["validate", file]).code).toBe(0);
    const again = mkbundle(["init", target]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain("already exists (use --force to overwrite it)");
    expect(mkbundle(["init", target, "--force", "--name", "other"]).code).toBe(0);
    expect(readFileSync(file, "utf8")).toContain("name: other");
  });
});

describe("Razor's command line", () => {
  it("-p with -d exits 2 naming both flags", () => {
    const r = mkbundle(["-b", b, "-m", m, "-p", "-d"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("cannot specify both -d and -p");
  });

  it("a missing list file exits 2 naming it; a missing -b exits 2", () => {
    const r = mkbundle(["-b", join(dir, "missing.lst"), "-m", m]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${join(dir, "missing.lst")}: extension list does not exist`);
    const noB = mkbundle(["-m", m]);
    expect(noB.code).toBe(2);
    expect(noB.stderr).toContain("missing -b/--builtin-list");
    expect(noB.stderr).toContain("usage: mkbundle -b FILE -m FILE");
  });

  it("--dry-run prints flavour prod and both lists, never the password, and warns it is ignored", () => {
    const r = mkbundle(["-b", b, "-m", m, "-p", "-t", "secret", "--dry-run"]);
    expect(r.code).toBe(0);
    const shown = parse(r.stdout) as {
      flavour: string;
      extensions: { builtin: string[]; mirror: string[] };
      name: string;
    };
    expect(shown.flavour).toBe("prod");
    expect(shown.name).toBe("razor-microkernel");
    // prod leaves openssh out (Razor's rule), and the header says so.
    expect(shown.extensions).toEqual({ builtin: ["bash"], mirror: ["procps"], local: [] });
    expect(r.stdout).toContain("# flavour prod leaves out of extensions.builtin: openssh");
    expect(r.stdout + r.stderr).not.toContain("secret");
    expect(r.stderr).toContain("warning: a 'tc' password cannot be set for a prod image");
  });

  it("MK_BUNDLE_TYPE=debug gives flavour debug; the password stays out of the output", () => {
    const r = mkbundle(["-b", b, "-m", m, "-t", "hunter2", "-n"], { env: { MK_BUNDLE_TYPE: "debug" } });
    expect(r.code).toBe(0);
    expect((parse(r.stdout) as { flavour: string; password: unknown }).flavour).toBe("debug");
    expect(r.stdout).toContain("env: MK_BUNDLE_TC_PASSWD");
    expect(r.stdout).not.toContain("hunter2");
  });

  it("reads -c files and reports bad list entries at their line", () => {
    const cfg = write("bundle.cfg", `MK_BUNDLE_BUILTIN_LIST=${b}\nMK_BUNDLE_MIRROR_LIST=${m}\nMK_BUNDLE_TYPE=debug\n`);
    expect((parse(mkbundle(["-c", cfg, "-n"]).stdout) as { flavour: string }).flavour).toBe("debug");
    const bad = write("bad.lst", "bash\nbash.tcz\nfoo/bar\n");
    const r = mkbundle(["-b", bad, "-m", m, "-n"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${bad}:3:1: 'foo/bar' is not an extension name`);
  });

  it("reports an extension listed twice at its line in the list file", () => {
    const dup = write("dup.lst", "bash\ndmidecode\nbash.tcz\n");
    const r = mkbundle(["-b", dup, "-m", m, "-n"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `${dup}:3:1: extensions.builtin[2]: extension 'bash' is listed twice (first listed at line 1)`,
    );
  });

  it("the default lists in the repository are valid", () => {
    const r = mkbundle(["-b", "extensions.lst", "-m", "mirror.lst", "-p", "-n"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  });
});
