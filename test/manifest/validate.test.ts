import { describe, expect, it } from "vitest";
import { formatDiagnostic, type Diagnostic } from "../../src/errors.js";
import { loadManifestText } from "../../src/manifest/load.js";
import { tempDir } from "../helpers/tmp.js";

const { dir, write } = tempDir();

function check(text: string, name = "m.yaml"): { errors: Diagnostic[]; warnings: Diagnostic[]; lines: string[] } {
  const file = write(name, text);
  const { diagnostics } = loadManifestText(file, text);
  return {
    errors: diagnostics.filter((d) => d.severity === "error"),
    warnings: diagnostics.filter((d) => d.severity === "warning"),
    lines: diagnostics.map((d) => formatDiagnostic(d).replaceAll(dir + "/", "")),
  };
}

describe("valid manifests", () => {
  it("accepts the full example from the issue", () => {
    write("files/bootsync.sh", "#!/bin/sh\n");
    const r = check(`name: razor-microkernel
version: 0.9.0.1
flavour: dev
base:
  release: 4.x
  arch: x86
  iso: Core-current.iso
  sha256: "${"a".repeat(64)}"
mirror: http://distro.ibiblio.org/tinycorelinux
kernel: 3.0.21-tinycore
extensions:
  builtin: [openssh, bash, dmidecode]
  mirror: [procps.tcz]
gems:
  source: https://rubygems.org
  require: ["facter", "json_pure >= 1.7.7", "daemons", "rake ~> 13.0, != 13.0.1"]
files:
  - path: /opt/bootsync.sh
    source: files/bootsync.sh
    mode: "0755"
    owner: "0:0"
  - path: /usr/local/sbin/sfdisk
    extract: { extension: util-linux, path: usr/local/sbin/sfdisk }
  - path: /etc/motd
    content: hi
services:
  - name: hello
    run: /usr/local/bin/hello --port 8080
password:
  env: MK_TC_PASSWD
boot:
  append: [console=ttyS0]
  timeout: 10
`);
    expect(r.lines).toEqual([]);
  });

  it("needs only a name", () => {
    expect(check("name: x\n").lines).toEqual([]);
  });
});

describe("schema errors point at file, line and column", () => {
  it("names an unknown key on line 4 and suggests the right one", () => {
    const r = check("name: a\nversion: 1.0.0\nflavour: dev\nextenions:\n  builtin: [bash]\n");
    expect(r.lines).toEqual(["m.yaml:4:1: extenions: unknown key 'extenions' (did you mean 'extensions'?)"]);
  });

  it("suggests within nested mappings and lists the keys when nothing is close", () => {
    const r = check("name: a\nbase:\n  arhc: x86\n  zzzzzz: 1\n");
    expect(r.lines).toEqual([
      "m.yaml:3:3: base.arhc: unknown key 'arhc' (did you mean 'arch'?)",
      "m.yaml:4:3: base.zzzzzz: unknown key 'zzzzzz' (expected one of: release, arch, iso, url, sha256, kernel, initrds, isolinux)",
    ]);
  });

  it("explains what YAML made of an unquoted mode (0755, 0o755, 755)", () => {
    const r = check(
      "name: a\nfiles:\n  - path: /x\n    content: y\n    mode: 0755\n  - path: /y\n    content: y\n    mode: 0o755\n  - path: /z\n    content: y\n    mode: 755\n",
    );
    expect(r.lines).toEqual([
      `m.yaml:5:11: files[0].mode: must be a string, not the number 0755 (a mode is a quoted octal string like "0755"; YAML reads an unquoted 0755 as the number 755)`,
      `m.yaml:8:11: files[1].mode: must be a string, not the number 0o755 (a mode is a quoted octal string like "0755"; YAML reads an unquoted 0o755 as the number 493)`,
      `m.yaml:11:11: files[2].mode: must be a string, not the number 755 (a mode is a quoted octal string like "0755"; YAML reads an unquoted 755 as the number 755)`,
    ]);
  });

  it("version: 1.0 is the number 1: quote it", () => {
    expect(check("name: a\nversion: 1.0\n").lines).toEqual([
      `m.yaml:2:10: version: must be a string, not the number 1.0 (YAML reads an unquoted 1.0 as the number 1, not the text 1.0: quote it, "1.0")`,
    ]);
  });

  it("a ': ' inside an unquoted run: says to quote it or use a block", () => {
    const r = check('name: a\nservices:\n  - name: s\n    run: echo "status: ok"; sleep 1\n');
    expect(r.lines).toEqual([
      `m.yaml:4:10: Nested mappings are not allowed in compact mappings (a ": " inside a plain value starts a mapping: quote the whole value (run: 'echo "status: ok"') or write it as a block (run: |))`,
    ]);
  });

  it("an upper-case sha256 says to write it in lower case", () => {
    const upper = "AB".repeat(32);
    expect(check(`name: a\nbase:\n  url: http://x/y.iso\n  sha256: "${upper}"\n`).lines).toEqual([
      `m.yaml:4:11: base.sha256: '${upper}' is upper-case hex (sha256 digests are written in lower case: "${upper.toLowerCase()}")`,
    ]);
  });

  it("reports a bad name, a bad flavour and a bad arch together, each with its position", () => {
    const r = check("name: My_Image\nflavour: production\nbase:\n  arch: arm64\n");
    expect(r.lines).toEqual([
      "m.yaml:1:7: name: 'My_Image' is not valid (expected lower-case letters, digits and '-', starting with a letter or digit, like razor-microkernel)",
      "m.yaml:2:10: flavour: 'production' is not allowed (expected one of: dev, prod, debug; did you mean 'prod'?)",
      "m.yaml:4:9: base.arch: 'arm64' is not allowed (expected one of: x86, x86_64)",
    ]);
  });

  it("a base is an ISO or distribution files, never both; kernel needs initrds", () => {
    const both = check("name: a\nbase:\n  iso: Core-4.4.iso\n  kernel: vmlinuz\n  initrds: [core.gz]\n");
    expect(both.lines).toEqual([
      "m.yaml:3:3: base.iso: cannot be used with base.kernel (a base is either an ISO (iso, url, sha256) or distribution files (kernel, initrds, isolinux))",
    ]);
    expect(check("name: a\nbase:\n  kernel: vmlinuz\n").errors.map((d) => d.message)).toEqual([
      expect.stringMatching(/initrds/),
    ]);
    const ok = check(
      `name: a\nbase:\n  arch: x86_64\n  kernel: vmlinuz64\n  initrds: [rootfs64.gz, modules64.gz]\n  isolinux:\n    bin: { url: isolinux.bin, sha256: ${"a".repeat(64)} }\n    ldlinux: { url: ldlinux.c32, sha256: ${"b".repeat(64)} }\n`,
    );
    expect(ok.lines).toEqual([]);
  });

  it("reports a missing name at the document", () => {
    expect(check("version: 1.0.0\n").lines).toEqual(["m.yaml:1:1: missing required key 'name'"]);
  });

  it("rejects duplicate keys instead of keeping the last", () => {
    const r = check("name: a\nflavour: dev\nflavour: prod\n");
    expect(r.lines).toEqual(["m.yaml:3:1: duplicate key 'flavour' (each key may appear once in a mapping)"]);
  });

  it("reports YAML syntax errors with a position", () => {
    const r = check("name: a\nextensions: [bash\n");
    expect(r.errors.length).toBeGreaterThan(0);
    expect(r.errors[0]!.line).toBeGreaterThanOrEqual(2);
  });

  it("rejects an empty document", () => {
    expect(check("# nothing\n").lines).toEqual(["m.yaml:1:1: the manifest is empty (start from `mkbundle init`)"]);
  });

  it("wants exactly one of source, content and extract", () => {
    const r = check(
      "name: a\nfiles:\n  - path: /x\n  - path: /y\n    content: a\n    extract: { extension: e, path: p }\n",
    );
    expect(r.lines).toEqual([
      "m.yaml:3:5: files[0]: needs one of: source, content, extract",
      "m.yaml:4:5: files[1]: sets content and extract (expected exactly one of: source, content, extract)",
    ]);
  });

  it("checks owners, paths, types, ranges and gem requirements", () => {
    const r = check(`name: a
files:
  - path: etc/x
    content: a
    owner: root
gems:
  require: ["json_pure >= "]
boot:
  timeout: -1
  append: console=ttyS0
extensions:
  builtin: [bash, "bad name"]
`);
    expect(r.lines).toEqual([
      "m.yaml:3:11: files[0].path: 'etc/x' is not valid (expected an absolute path inside the image, like /opt/bootsync.sh)",
      `m.yaml:5:12: files[0].owner: 'root' is not valid (expected numeric uid:gid such as "0:0" or "1001:50")`,
      `m.yaml:7:13: gems.require[0]: 'json_pure >= ' is not valid (expected 'name' or 'name >= 1.2', like "json_pure >= 1.7.7" or "rake ~> 13.0, != 13.0.1")`,
      "m.yaml:9:12: boot.timeout: must be >= 0 (got -1)",
      "m.yaml:10:11: boot.append: must be a list, not the string 'console=ttyS0'",
      "m.yaml:12:19: extensions.builtin[1]: 'bad name' is not valid (expected a Tiny Core extension name like bash or libssl-0.9.8 ('.tcz' optional))",
    ]);
  });
});

describe("semantic checks", () => {
  it("services' depends_on: names of this manifest's services, no loops", () => {
    const svc = (deps: string) =>
      `name: a\nservices:\n  - { name: db, run: x, depends_on: [${deps}] }\n  - { name: web, run: y, depends_on: [db] }\n`;
    expect(check(svc("")).lines).toEqual([]);
    expect(check(svc("cache")).lines).toEqual([
      "m.yaml:3:38: services[0].depends_on[0]: no service is named 'cache' (name one of this manifest's services)",
    ]);
    expect(check(svc("db")).lines).toEqual([
      "m.yaml:3:38: services[0].depends_on[0]: a service cannot wait for itself",
    ]);
    expect(check(svc("web")).lines).toEqual([
      "m.yaml:3:37: services[0].depends_on: services wait for each other in a loop: db -> web -> db (none would start)",
    ]);
  });

  it("services' env_file: next to the manifest, NAME=value lines (file and line named); reload_on: relative globs", () => {
    write("env/ok.env", "# c\nA=1\n");
    write("env/bad.env", "A=1\nnot a line\n");
    const svc = (env: string, reload = "[etc/**]") =>
      `name: a\nservices:\n  - { name: web, run: y, env_file: ${env}, reload_on: ${reload} }\n`;
    expect(check(svc("env/ok.env")).lines).toEqual([]);
    expect(check(svc("env/bad.env")).lines).toEqual([
      "m.yaml:3:36: services[0].env_file: env/bad.env:2: not NAME=value (a name is letters, digits and _)",
    ]);
    expect(check(svc("env/missing.env")).lines[0]).toMatch(
      /^m\.yaml:3:36: services\[0\]\.env_file: source file 'env\/missing\.env' does not exist/,
    );
    expect(check(svc("../x.env")).lines[0]).toMatch(
      /services\[0\]\.env_file: '\.\.\/x\.env' is outside the manifest's directory/,
    );
    expect(check(svc("env/ok.env", "[/etc/**, a/../b]")).lines).toEqual([
      "m.yaml:3:60: services[0].reload_on[0]: '/etc/**' is not a relative glob (like usr/share/doc/** or **/*.a; no leading /, no empty or .. parts)",
      "m.yaml:3:69: services[0].reload_on[1]: 'a/../b' is not a relative glob (like usr/share/doc/** or **/*.a; no leading /, no empty or .. parts)",
    ]);
  });

  it("prune: relative globs, each at its line; budget: sizes", () => {
    expect(check("name: a\nprune: [usr/share/doc/**, '**/*.a', '!usr/share/doc/C/**']\n").lines).toEqual([]);
    expect(check("name: a\nprune:\n  - usr/share/doc/**\n  - /etc/**\n  - a/../../b\n  - a//b\n").lines).toEqual([
      "m.yaml:4:5: prune[1]: '/etc/**' is not a relative glob (like usr/share/doc/** or **/*.a; no leading /, no empty or .. parts)",
      "m.yaml:5:5: prune[2]: 'a/../../b' is not a relative glob (like usr/share/doc/** or **/*.a; no leading /, no empty or .. parts)",
      "m.yaml:6:5: prune[3]: 'a//b' is not a relative glob (like usr/share/doc/** or **/*.a; no leading /, no empty or .. parts)",
    ]);
    expect(check("name: a\nbudget:\n  iso: 24MiB\n  initrd: 16777216\n  ram: 64MiB\n").lines).toEqual([]);
    expect(check("name: a\nbudget:\n  iso: 24MB\n").errors.length).toBeGreaterThan(0);
    expect(check("name: a\nbudget:\n  disk: 1GiB\n").errors.length).toBeGreaterThan(0);
  });

  it("persist.size: a size from 1MiB to 64GiB, spelled as bytes or with a unit", () => {
    expect(check("name: a\npersist:\n  size: 64MiB\n").lines).toEqual([]);
    expect(check("name: a\npersist:\n  size: 1048576\n").lines).toEqual([]);
    expect(check("name: a\npersist:\n  size: 512KiB\n").lines).toEqual([
      "m.yaml:3:9: persist.size: a data partition of 512KiB is not from 1MiB to 64GiB (like 64MiB)",
    ]);
    expect(check("name: a\npersist:\n  size: 65GiB\n").lines).toEqual([
      "m.yaml:3:9: persist.size: a data partition of 65GiB is not from 1MiB to 64GiB (like 64MiB)",
    ]);
    expect(check("name: a\npersist:\n  size: 64MB\n").errors.length).toBeGreaterThan(0);
    expect(check("name: a\npersist:\n  size: 64MiB\n  paths: [var]\n").errors.length).toBeGreaterThan(0);
  });

  it("persist.seed: files like files:, each under a path the partition holds, each once", () => {
    const seed = (paths: string, ...files: string[]) =>
      check(
        `name: a\npersist:\n  size: 8MiB\n${paths}  seed:\n${files.map((f) => `    - { path: ${f}, content: x }\n`).join("")}`,
      ).lines;
    expect(seed("", "/home/tc/app.conf", "/opt/app/db")).toEqual([]);
    expect(seed("  paths: [home]\n", "/opt/app/db")).toEqual([
      "m.yaml:6:15: persist.seed[0].path: '/opt/app/db' is not under /home (the data partition holds only the paths persist.paths names)",
    ]);
    expect(seed("", "/etc/passwd")).toEqual([
      "m.yaml:5:15: persist.seed[0].path: '/etc/passwd' is not under /home or /opt (the data partition holds only the paths persist.paths names)",
    ]);
    expect(seed("", "/home")[0]).toContain("'/home' is not under /home or /opt");
    expect(seed("", "/home/tc/../../etc/x")[0]).toContain("contains '.' or '..'");
    expect(seed("", "/home/tc/a", "/home/tc/a")).toEqual([
      "m.yaml:6:15: persist.seed[1].path: '/home/tc/a' is already written by persist.seed[0] (first at line 5)",
    ]);
    expect(check("name: a\npersist:\n  size: 8MiB\n  seed:\n    - { path: home/x, content: x }\n").errors.length).toBe(
      1,
    );
  });

  it("rejects an extension listed twice, with or without .tcz", () => {
    const r = check("name: a\nextensions:\n  builtin: [bash, dmidecode, bash.tcz]\n");
    expect(r.lines).toEqual([
      "m.yaml:3:30: extensions.builtin[2]: extension 'bash' is listed twice (first listed at line 3)",
    ]);
  });

  it("warns when an extension is both builtin and mirrored", () => {
    const r = check("name: a\nextensions:\n  builtin: [bash]\n  mirror: [bash]\n");
    expect(r.errors).toEqual([]);
    expect(r.warnings.map((w) => w.message)).toEqual(["extension 'bash' is also listed in extensions.builtin"]);
  });

  it("rejects sources that escape the manifest's directory or do not exist", () => {
    write("inside.txt", "x");
    const r = check(`name: a
files:
  - path: /a
    source: ../etc/passwd
  - path: /b
    source: /etc/passwd
  - path: /c
    source: missing.txt
  - path: /d
    source: inside.txt
`);
    expect(r.lines).toEqual([
      "m.yaml:4:13: files[0].source: '../etc/passwd' is outside the manifest's directory (sources must live next to the manifest so a checkout builds the same image anywhere)",
      "m.yaml:6:13: files[1].source: '/etc/passwd' is outside the manifest's directory (sources must live next to the manifest so a checkout builds the same image anywhere)",
      "m.yaml:8:13: files[2].source: source file 'missing.txt' does not exist (looked for missing.txt)",
    ]);
  });

  it("rejects a source that is a symbolic link to outside", async () => {
    const { symlinkSync } = await import("node:fs");
    symlinkSync("/etc/hostname", `${dir}/sneaky`);
    const r = check("name: a\nfiles:\n  - path: /a\n    source: sneaky\n");
    expect(r.lines).toEqual([
      "m.yaml:4:13: files[0].source: 'sneaky' resolves outside the manifest's directory (through a symbolic link)",
    ]);
  });

  it("rejects the same image path twice and '..' in paths", () => {
    const r = check(
      "name: a\nfiles:\n  - path: /etc/x\n    content: a\n  - path: /etc/x\n    content: b\n  - path: /etc/../x\n    content: c\n",
    );
    expect(r.lines).toEqual([
      "m.yaml:5:11: files[1].path: '/etc/x' is already written by files[0] (first at line 3)",
      "m.yaml:7:11: files[2].path: '/etc/../x' contains '.' or '..' (write the plain absolute path)",
    ]);
  });

  it("refuses a clear-text password with one clear message", () => {
    const r = check("name: a\npassword: hunter2\n");
    expect(r.lines).toEqual([
      `m.yaml:2:11: password: clear-text password in the manifest (use password: {env: VAR}, {file: PATH} or {hash: "$6$..."}; a manifest is reviewed and committed)`,
    ]);
  });

  it("warns that a password is ignored for prod (Razor's rule)", () => {
    const r = check("name: a\nflavour: prod\npassword:\n  env: X\n");
    expect(r.errors).toEqual([]);
    expect(r.lines).toEqual([
      "m.yaml:3:1: warning: password: is ignored for flavour prod (a prod image has no usable password)",
    ]);
  });

  it("rejects a password mapping with two sources and a malformed hash", () => {
    const r = check("name: a\npassword:\n  env: X\n  hash: plain\n");
    expect(r.lines).toEqual([
      `m.yaml:3:3: password: sets env and hash (expected exactly one of: env, file, hash)`,
      // A malformed hash may be the password itself, pasted in by mistake: never repeated.
      `m.yaml:4:9: password.hash: is not valid (the value is not shown: it may be a secret) (expected a crypt hash such as "$6$salt$..." (openssl passwd -6))`,
    ]);
  });

  it("rejects a service defined twice and warns about a useless prod exclusion", () => {
    const r = check(
      "name: a\nservices:\n  - {name: web, run: httpd}\n  - {name: web, run: httpd}\nflavours:\n  prod:\n    exclude: [nano]\n",
    );
    expect(r.errors.map((e) => e.message)).toEqual(["service 'web' is defined twice"]);
    expect(r.warnings.map((e) => e.message)).toEqual(["'nano' is not in extensions.builtin"]);
  });
});
