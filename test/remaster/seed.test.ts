// persist.seed on the x86_64 fixture's ISO (no VM: test/e2e/persist.test.ts boots one): two
// builds give the same data image, disk image and ISO; the seed travels in the bundle as its own member (named by its sha256, read by GNU tar with its
// owners), the data image holds it as debugfs and e2fsck see it, a disk image's partition is
// listed and read through the image, plan names a seed file's change, a rebuild replaces a
// partition no guest touched, clean finds the old seed, and a seed that does not match its
// sha256 in bundle.json is refused. A disk image of a base ISO that is no hybrid (Core 4.4) is
// refused before anything is written.
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { mkbundleIn } from "../helpers/cli.js";
import { fixturesDir } from "../helpers/paths.js";
import { q, sh } from "../helpers/run.js";
import { tempDir } from "../helpers/tmp.js";

const { dir, write } = tempDir("mkbundle-seed-");
const env = { SOURCE_DATE_EPOCH: "1700000000" };
const out = join(dir, "out");
const common = ["--mirror", join(fixturesDir(), "tinycore"), "--work-dir", join(dir, "wd"), "--out", out];
const m = write(
  "app/seeded.yaml",
  `name: seeded
version: 1.0.0
base: { release: 10.x, arch: x86_64, iso: CorePure64-10.1.iso }
persist:
  size: 2MiB
  seed:
    - path: /home/tc/app.conf
      source: app.conf
      mode: "0600"
    - path: /opt/app/state/README
      content: "kept across boots\\n"
      owner: "0:0"
`,
);
const sha = (f: string) => createHash("sha256").update(readFileSync(f)).digest("hex");
const debugfs = (img: string, request: string) => sh(`debugfs -R ${q(request)} ${q(img)} 2>/dev/null`).toString();

describe("persist.seed", () => {
  it("travels in the bundle, fills the data image and the disk image's partition, and changes visibly", async () => {
    write("app/app.conf", "port: 8080\n");
    const built = await mkbundleIn(["build", m, ...common, "--format", "iso,data,disk"], { env });
    expect(built.code, built.stderr).toBe(0);

    // The bundle's seed member, as GNU tar reads it.
    const members = join(dir, "members");
    mkdirSync(members);
    sh(`tar -C ${q(members)} -xzf ${q(join(out, "seeded-bundle-dev.tar.gz"))}`);
    const json = JSON.parse(readFileSync(join(members, "bundle.json"), "utf8")) as {
      seed: string;
      members: Record<string, string>;
    };
    expect(json.seed).toMatch(/^seed-[0-9a-f]{64}\.tar\.gz$/);
    expect(sh(`sha256sum ${q(join(members, json.seed))}`).toString()).toContain(json.members[json.seed]);
    const listed = sh(`tar --numeric-owner -tvzf ${q(join(members, json.seed))}`).toString();
    expect(listed).toMatch(/^-rw------- 1001\/50 +11 .* home\/tc\/app\.conf$/m);
    expect(listed).toMatch(/^drwxr-xr-x 1001\/50 .* home\/tc\/$/m);
    expect(listed).toMatch(/^drwxr-xr-x 0\/0 .* opt\/app\/state\/$/m);

    // The data image, as e2fsprogs reads it.
    const data = join(out, "seeded-dev-1.0.0-data.img");
    expect(sh(`e2fsck -fn ${q(data)} 2>&1; echo "exit $?"`).toString()).toMatch(/exit 0\s*$/);
    expect(debugfs(data, "cat /home/tc/app.conf")).toBe("port: 8080\n");
    expect(debugfs(data, "stat /home/tc/app.conf")).toMatch(/Mode: {2}0600\s+[\s\S]*User: {2}1001\s+Group: {4}50/);
    expect(debugfs(data, "cat /opt/app/state/README")).toBe("kept across boots\n");

    // The disk image: its second partition is the same file system, listed through the image.
    const disk = join(out, "seeded-dev-1.0.0.img");
    const start = Number(/\.img2 : start=\s*(\d+)/.exec(sh(`sfdisk -d ${q(disk)}`).toString())![1]);
    expect(
      readFileSync(disk)
        .subarray(start * 512)
        .equals(readFileSync(data)),
    ).toBe(true);
    const ls = await mkbundleIn(["ls", disk]);
    expect(ls.stdout).toMatch(/^-rw-r--r-- +0 +0 +2097152 .* partition2\.img$/m);
    const inside = await mkbundleIn(["ls", disk, "partition2.img", "home/tc"]);
    expect(inside.stdout).toMatch(/^-rw------- +1001 +50 +11 .* home\/tc\/app\.conf$/m);
    expect((await mkbundleIn(["cat", disk, "partition2.img", "home/tc/app.conf"])).stdout).toBe("port: 8080\n");

    // The same inputs elsewhere: the same bytes.
    const elsewhere = join(dir, "elsewhere");
    const twice = await mkbundleIn(["build", m, ...common.slice(0, -1), elsewhere, "--format", "iso,data,disk"], {
      env,
    });
    expect(twice.code, twice.stderr).toBe(0);
    for (const f of ["seeded-dev-1.0.0-data.img", "seeded-dev-1.0.0.img", "seeded-dev-1.0.0.iso"])
      expect(sha(join(elsewhere, f)), f).toBe(sha(join(out, f)));

    // An edit of a seed source: plan names it; the partition no guest touched is replaced.
    write("app/app.conf", "port: 9090\n");
    const plan = await mkbundleIn(["plan", m, ...common], { env });
    expect(plan.stdout).toContain("~ persist.seed /home/tc/app.conf 11 B -> 11 B");
    const oldSeed = readdirSync(out).find((f) => f.startsWith("seed-"))!;
    const again = await mkbundleIn(["build", m, ...common, "--format", "iso,data,disk"], { env });
    expect(again.code, again.stderr).toBe(0);
    expect(debugfs(data, "cat /home/tc/app.conf")).toBe("port: 9090\n");
    expect((await mkbundleIn(["cat", disk, "partition2.img", "home/tc/app.conf"])).stdout).toBe("port: 9090\n");
    expect((await mkbundleIn(["clean", "--out", out])).stdout.trim().split(/\s+/).pop()).toBe(oldSeed);

    // A seed member that is not the one bundle.json names.
    writeFileSync(join(members, json.seed), Buffer.concat([readFileSync(join(members, json.seed)), Buffer.alloc(512)]));
    const bundle = join(dir, "tampered-bundle-dev.tar.gz");
    sh(`cd ${q(members)} && tar -czf ${q(bundle)} *`);
    const r = await mkbundleIn(["rebuild-iso", "--bundle", bundle, "--out", join(dir, "tampered")], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${json.seed} does not match its sha256 in bundle.json`);
  });

  it("a disk image needs a hybrid base ISO: refused, naming it, before any output", async () => {
    const core4 = write(
      "old/old.yaml",
      "name: old\nversion: 1.0.0\nbase: { iso: Core-4.4.iso }\npersist: { size: 2MiB }\n",
    );
    const to = join(dir, "old-out");
    const r = await mkbundleIn(["build", core4, ...common.slice(0, -1), to, "--format", "iso,disk"], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      "--format disk: the base Core-4.4.iso is not an isohybrid ISO, so no disk image of it can boot",
    );
    expect(readdirSync(to).filter((f) => f.endsWith(".iso") || f.endsWith(".img"))).toEqual([]);
  });
});
