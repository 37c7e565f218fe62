// prune: and budget: on the x86_64 hello image, as a user meets them. Rules for what the
// service does not need (docs, static libraries, locales but C, a C++ runtime nothing uses,
// the CD and 9p drivers of an image that runs from its initrd) and one on a loop-mounted
// builtin extension: the ISO shrinks, the initrd no longer holds the files, modules.dep is
// written again without the modules, the builtin .tcz is repacked (unsquashfs reads it, its
// .md5.txt matches), and the pruned image still boots and answers HTTP, with the extension
// as the guest sees it. A rule that removes a library or a module something left in needs is
// an error naming the rule. A budget 1 byte under the ISO fails before anything is written,
// naming the largest parts; at the ISO's size it passes.
import { createHash } from "node:crypto";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { mkbundleAsync } from "../helpers/cli.js";
import { fixturesDir, repoRoot } from "../helpers/paths.js";
import { q, sh } from "../helpers/run.js";
import { tempDir } from "../helpers/tmp.js";

const { dir, write } = tempDir("mkbundle-prune-");
const mirror = () => join(fixturesDir(), "tinycore");
const hello = readFileSync(join(repoRoot, "manifests", "hello-service.yaml"), "utf8");

/** hello-small's rules (the README's example), and two for the loop-mounted builtin ncursesw. */
const RULES = [
  ...(parse(readFileSync(join(repoRoot, "manifests", "hello-small.yaml"), "utf8")) as { prune: string[] }).prune,
  "usr/local/share/terminfo/x/**",
  "usr/local/lib/libncurses++w.so*",
];

/** hello-service with ncursesw loop-mounted, a service that lists its terminfo, and more at the end. */
const manifest = (more: string) =>
  hello.replace(
    "services:\n",
    `extensions:
  builtin: [ncursesw]

services:
  - name: terminfo
    run: |
      echo "terminfo: $(ls /usr/local/share/terminfo | tr '\\n' ' ')"
    log: /dev/ttyS0
  - name: flaky
    restart: on-failure
    run: |
      n=$(cat /tmp/flaky 2>/dev/null || echo 0); echo $((n + 1)) > /tmp/flaky
      [ "$n" -ge 2 ] || exit 1
  - name: oneshot
    run: exit 3
  - name: db
    run: nc -l -p 8081 -e /bin/cat
    ready: { port: 8081 }
  - name: client
    user: tc
    environment: { GREETING: "hi there" }
    depends_on: [db]
    log: /dev/ttyS0
    run: |
      echo "client: $(id -un) says $GREETING; db listening: $(netstat -ltn | grep -c ':8081 ')"
`,
  ) + more;
const pruneList = (rules: string[]) => `\nprune:\n${rules.map((r) => `  - ${JSON.stringify(r)}\n`).join("")}`;
const build = (m: string, out: string) =>
  mkbundleAsync(["build", m, "--mirror", mirror(), "--work-dir", join(dir, "wd"), "--out", out, "--format", "iso"]);
const sha256 = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex");

describe("prune: and budget:", () => {
  it("prunes the base and a loop-mounted builtin, boots the smaller image, and holds it to a budget", async () => {
    const plain = await build(write("plain/hello.yaml", manifest("")), join(dir, "plain-out"));
    expect(plain.code, plain.stderr).toBe(0);
    // The README's example: hello-service made small, within its budgets.
    const small = await build(
      write("small/hello-small.yaml", readFileSync(join(repoRoot, "manifests", "hello-small.yaml"), "utf8")),
      join(dir, "small-out"),
    );
    expect(small.code, small.stderr).toBe(0);
    expect(small.stderr).toMatch(
      /^budget: iso 12\.0 MiB of 12\.0 MiB, initrd [\d.]+ MiB of 4\.0 MiB, ram [\d.]+ MiB of 16\.0 MiB$/m,
    );
    expect(statSync(small.stdout.trim()).size).toBeLessThan(statSync(plain.stdout.trim()).size);
    const m = write("pruned/hello.yaml", manifest(pruneList(RULES)));
    const out = join(dir, "pruned-out");
    const pruned = await build(m, out);
    expect(pruned.code, pruned.stderr).toBe(0);
    const [before, iso] = [plain.stdout.trim(), pruned.stdout.trim()];
    const [a, b] = [statSync(before).size, statSync(iso).size];
    console.log(`prune: ${a} -> ${b} bytes (${a - b} saved)`);
    expect(b).toBeLessThan(a);
    expect(pruned.stderr).toMatch(/^prune\[0\] usr\/share\/doc\/\*\*: \d+ entries, \d+ bytes of files$/m);
    expect(pruned.stderr).toContain(
      "warning: prune[3] **/*.a removes nothing from the base initrd or the builtin extensions",
    );
    expect(pruned.stderr).toMatch(/^prune\[7\] lib\/modules\/\*\/kernel\/drivers\/ata\/\*\*: 3 entries/m);

    // mkbundle size says what the rules left out (the ISO's iso-metadata.yaml records it).
    const size = await mkbundleAsync(["size", iso, "--depth", "1"]);
    expect(size.code, size.stderr).toBe(0);
    expect(size.stdout).toMatch(
      /\nleft out by the manifest's prune: \([\d.]+ MiB of files, unpacked\):\n +[\d.]+ KiB {2}usr\/share\/doc\/\*\* \(\d+ entries\)\n/,
    );
    expect(size.stdout).toMatch(/^ +[\d.]+ KiB {2}lib\/modules\/\*\/kernel\/drivers\/ata\/\*\* \(3 entries\)$/m);

    // The initrd as the kernel gets it: none of the files, modules.dep without them.
    const paths = (await mkbundleAsync(["ls", iso, "boot/corepure64.gz"])).stdout;
    expect(paths).not.toMatch(/ (usr\/share\/doc\/|usr\/lib\/libstdc\+\+|lib\/modules\/.*\/(ata|scsi|cdrom|9p)\/)/);
    expect(paths).toMatch(/ lib\/modules\/[^ ]+\/e1000\.ko/);
    const release = /lib\/modules\/([^/ ]+)\/modules\.dep/.exec(paths)![1]!;
    const dep = (await mkbundleAsync(["cat", iso, "boot/corepure64.gz", `lib/modules/${release}/modules.dep`])).stdout;
    expect(dep).not.toMatch(/ata|scsi|cdrom|9p/);
    expect(dep).toMatch(/e1000\.ko:/);
    const wholeDep = (await mkbundleAsync(["cat", before, "boot/corepure64.gz", `lib/modules/${release}/modules.dep`]))
      .stdout;
    expect(wholeDep).toMatch(/ata_piix\.ko: kernel\/drivers\/ata\/libata\.ko/);

    // The builtin extension, repacked: an independent reader sees what is left; its .md5.txt says its md5.
    const tcz = join(dir, "ncursesw.tcz");
    writeFileSync(
      tcz,
      sh(
        `node ${q(join(repoRoot, "dist/src/cli/main.js"))} cat ${q(iso)} boot/corepure64.gz tmp/builtin/optional/ncursesw.tcz`,
      ),
    );
    const listed = sh(`unsquashfs -lls ${q(tcz)}`).toString();
    expect(listed).toMatch(/usr\/local\/share\/terminfo\/v\/vt100$/m);
    expect(listed).not.toMatch(/terminfo\/x/);
    const md5 = (await mkbundleAsync(["cat", iso, "boot/corepure64.gz", "tmp/builtin/optional/ncursesw.tcz.md5.txt"]))
      .stdout;
    expect(md5).toBe(`${createHash("md5").update(readFileSync(tcz)).digest("hex")}  ncursesw.tcz\n`);
    const json = JSON.parse(
      (await mkbundleAsync(["cat", join(out, "hello-service-bundle-prod.tar.gz"), "bundle.json"])).stdout,
    ) as {
      pruned: { glob: string; files: number; bytes: number }[];
    };
    expect(json.pruned.find((x) => x.glob === "usr/local/share/terminfo/x/**")?.files).toBeGreaterThan(0);

    // The pruned image boots: the service answers, the guest's extension lacks terminfo/x.
    const t = await mkbundleAsync([
      "test",
      iso,
      "--expect",
      "terminfo: a l r v \\s",
      // restart: on-failure, twice with backoff, then done; restart: no stays down and says so.
      "--expect",
      "mkbundle: service flaky exited with 1 after \\d+ s; restarting in 1 s \\(restart: on-failure\\)",
      "--expect",
      "mkbundle: service flaky exited with 1 after \\d+ s; restarting in 2 s \\(restart: on-failure\\)",
      "--expect",
      "mkbundle: service flaky exited with 0 after \\d+ s \\(restart: on-failure: done\\)",
      "--expect",
      "mkbundle: service oneshot exited with 3 after \\d+ s \\(restart: no: it stays down\\)",
      // depends_on waits for db's ready: port; client runs as tc with its environment.
      "--expect",
      "mkbundle: service db ready \\(port 8081 is listening\\)",
      "--expect",
      "mkbundle: service client started as tc",
      "--expect",
      "client: tc says hi there; db listening: 1",
      "--port",
      "18186:80",
      "--http",
      "http://127.0.0.1:18186/~Hello from a Tiny Core microkernel",
      "--timeout",
      "240",
      "--json",
    ]);
    expect(t.code, t.stderr.slice(-4000)).toBe(0);
    // The same boot's timeline: busybox init, tc-config, each service, the checks, in time order.
    const { timeline } = JSON.parse(t.stdout) as { timeline: { event: string; seconds: number }[] };
    expect(timeline.map((m) => m.event)).toEqual(
      expect.arrayContaining([
        "console",
        "init",
        "Booting Core",
        "service hello",
        "service terminfo",
        "service client",
        "expect /terminfo: a l r v \\s/",
        "http http://127.0.0.1:18186/~Hello from a Tiny Core microkernel",
      ]),
    );
    const at = (e: string) => timeline.find((m) => m.event === e)!.seconds;
    expect(at("init")).toBeLessThanOrEqual(at("Booting Core"));
    expect(at("Booting Core")).toBeLessThanOrEqual(at("service hello"));
    expect(at("expect /mkbundle: service db ready \\(port 8081 is listening\\)/")).toBeLessThanOrEqual(
      at("service client"),
    );
    expect(at("service terminfo")).toBeLessThanOrEqual(at("expect /terminfo: a l r v \\s/"));
    expect(timeline.map((m) => m.seconds)).toEqual([...timeline.map((m) => m.seconds)].sort((x, y) => x - y));

    // budget: 1 byte under the ISO fails before writing, naming the parts; at its size it passes.
    const shaBefore = sha256(iso);
    writeFileSync(m, manifest(`${pruneList([...RULES, "usr/bin/zsync"])}\nbudget:\n  iso: ${b - 1}\n`));
    const over = await build(m, out);
    expect(over.code, over.stderr).toBe(2);
    expect(over.stderr).toContain(`budget.iso: the ISO would be ${b.toLocaleString("en-US")} bytes`);
    expect(over.stderr).toContain(`1 byte over ${(b - 1).toLocaleString("en-US")} bytes`);
    expect(over.stderr).toMatch(/largest: \/boot\/vmlinuz64 [\d.]+ MiB, the kernel/);
    expect(over.stderr).toMatch(
      /then \/boot\/corepure64\.gz [\d.]+ MiB, an initrd, [\d.]+ MiB unpacked; largest in it: /,
    );
    expect(over.stderr).toMatch(
      /since .*hello-service-prod-1\.0\.0\.iso: the ISO [\d.]+ MiB -> [\d.]+ MiB \(\+0 B\), \/boot\/corepure64\.gz [\d.]+ MiB -> [\d.]+ MiB \(-[\d.]+ KiB\)/,
    );
    expect(over.stderr).not.toMatch(/\n\s+at /);
    expect(sha256(iso)).toBe(shaBefore);
    // mkbundle size of the manifest (bundled, then remastered in a temporary directory) measures, it does not judge.
    const ofManifest = await mkbundleAsync([
      "size",
      m,
      "--json",
      "--mirror",
      mirror(),
      "--work-dir",
      join(dir, "wd"),
      "--out",
      out,
    ]);
    expect(ofManifest.code, ofManifest.stderr).toBe(0);
    const measured = JSON.parse(ofManifest.stdout) as { file: string; bytes: number; components: { kind: string }[] };
    expect(measured.file).toBe(`${join(out, "hello-service-bundle-prod.tar.gz")} (as rebuild-iso writes it)`);
    expect(measured.bytes).toBe(b);
    expect(sha256(iso)).toBe(shaBefore);
    writeFileSync(
      m,
      manifest(`${pruneList([...RULES, "usr/bin/zsync"])}\nbudget:\n  iso: ${b}\n  initrd: 16MiB\n  ram: 64MiB\n`),
    );
    const fits = await build(m, out);
    expect(fits.code, fits.stderr).toBe(0);
    expect(fits.stderr).toMatch(
      /^budget: iso 12\.0 MiB of 12\.0 MiB, initrd [\d.]+ MiB of 16\.0 MiB, ram [\d.]+ MiB of 64\.0 MiB$/m,
    );

    // plan: what an edit of the rules puts back, in bytes, for the pull request.
    writeFileSync(m, manifest(`${pruneList(RULES)}\nbudget:\n  iso: ${b}\n  initrd: 16MiB\n  ram: 64MiB\n`));
    const plan = await mkbundleAsync(["plan", m, "--mirror", mirror(), "--work-dir", join(dir, "wd"), "--out", out]);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toMatch(
      /bytes each prune rule removes: 1 change\n {2}- usr\/bin\/zsync -75\.2 KiB \(no longer pruned\)\n/,
    );
    expect(plan.stdout).toMatch(
      /\npruned: [\d.]+ MiB -> [\d.]+ MiB of files left out of the base and builtin extensions \(-75\.2 KiB\)/,
    );

    // What the rest of the image needs is not the rules' to take: ncursesw's C++ binding needs libstdc++.
    writeFileSync(m, manifest(pruneList(RULES.slice(0, -1))));
    const cxx = await build(m, out);
    expect(cxx.code, cxx.stderr).toBe(2);
    expect(cxx.stderr).toMatch(
      /hello\.yaml:\d+:\d+: extensions\.builtin\[0\]: ncursesw\.tcz \(from the mirror\): \/usr\/local\/lib\/libncurses\+\+w\.so\.6\.1 needs libstdc\+\+\.so\.6, which prune\[6\] usr\/lib\/libstdc\+\+\.so\* removes \(narrow the rule/,
    );
    writeFileSync(m, manifest(pruneList(["lib/modules/*/kernel/drivers/scsi/scsi_mod.ko"])));
    const scsi = await build(m, out);
    expect(scsi.code, scsi.stderr).toBe(1);
    expect(scsi.stderr).toMatch(
      /prune\[0\] lib\/modules\/\*\/kernel\/drivers\/scsi\/scsi_mod\.ko removes scsi_mod, which (sd_mod|sr_mod)\.ko \(left in\) needs/,
    );
    expect(sha256(iso)).not.toBe(shaBefore); // the budget build that fit wrote it
  }, 600_000);

  it("on a base without loop mounts: unpacked builtins pruned as they are unpacked; the manifest's own files and --append-initrd", async () => {
    const core4 = readFileSync(join(repoRoot, "manifests", "hello-core4.yaml"), "utf8");
    const m = write(
      "core4/hello.yaml",
      `${core4.replace("services:\n", "extensions:\n  builtin: [nano]\n\nservices:\n")}
prune:
  - usr/local/share/nano/**
  - srv/www/*
`,
    );
    const out = join(dir, "core4-out");
    const built = await build(m, out);
    expect(built.code, built.stderr).toBe(0);
    expect(built.stderr).toContain("builtin extensions: the base initrd has no");
    expect(built.stderr).toMatch(/^prune\[0\] usr\/local\/share\/nano\/\*\*: 30 entries, \d+ bytes of files$/m);
    expect(built.stderr).toContain(
      "warning: prune[1] srv/www/* matches files[0] /srv/www/index.html, which the manifest adds: prune leaves it in",
    );
    const paths = (await mkbundleAsync(["ls", built.stdout.trim(), "boot/core.gz"])).stdout;
    expect(paths).toMatch(/ usr\/local\/bin\/nano$/m);
    expect(paths).toMatch(/ srv\/www\/index\.html$/m);
    expect(paths).not.toMatch(/usr\/local\/share\/nano/);

    // A service's user: must be an account of the image.
    const bob = write(
      "core4/bob.yaml",
      core4.replace("services:\n", "services:\n  - name: bob\n    user: bob\n    run: id\n"),
    );
    const noBob = await build(bob, out);
    expect(noBob.code, noBob.stderr).toBe(2);
    expect(noBob.stderr).toMatch(
      /bob\.yaml:\d+:\d+: services\[0\]\.user: service 'bob' runs as 'bob', an account the image's \/etc\/passwd does not have \(it has root, .*tc/,
    );

    // --append-initrd keeps the base initrd as it is: a rule that would remove from it is refused.
    writeFileSync(m, `${readFileSync(m, "utf8")}  - usr/share/doc/**\n`);
    const appended = await mkbundleAsync([
      "build",
      m,
      "--append-initrd",
      "--mirror",
      mirror(),
      "--work-dir",
      join(dir, "wd"),
      "--out",
      out,
    ]);
    expect(appended.code, appended.stderr).toBe(2);
    expect(appended.stderr).toMatch(
      /--append-initrd keeps the base initrd byte for byte, so prune: cannot remove the \d+ entries its rules match there \(build without --append-initrd\)/,
    );
  }, 120_000);
});
