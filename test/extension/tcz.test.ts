// `mkbundle tcz DIR --name NAME`: a directory becomes NAME.tcz with the mirror's files beside
// it, the same bytes every time, read back by squashfs-tools as written; a source tree that
// Tiny Core would mishandle, or that changes while it is read, is a one-line error and leaves
// nothing in --out.
import {
  appendFileSync,
  chmodSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { sourceTree } from "../../src/extension/source-tree.js";
import { writeTcz } from "../../src/extension/write-tcz.js";
import { mkbundleAsync } from "../helpers/cli.js";
import { q, sh } from "../helpers/run.js";
import { tempDir } from "../helpers/tmp.js";

const { dir } = tempDir("mkbundle-tcz-");
const EPOCH = "1700000000";

function serviceTree(root: string): string {
  mkdirSync(join(root, "usr/local/bin"), { recursive: true });
  mkdirSync(join(root, "usr/local/share/svc"), { recursive: true });
  writeFileSync(join(root, "usr/local/bin/svc"), "#!/bin/sh\necho svc\n");
  chmodSync(join(root, "usr/local/bin/svc"), 0o755);
  symlinkSync("svc", join(root, "usr/local/bin/svc-alias"));
  symlinkSync("/usr/local/share/svc/data.txt", join(root, "usr/local/bin/data"));
  writeFileSync(join(root, "usr/local/share/svc/data.txt"), "x".repeat(10_000));
  return root;
}

describe("mkbundle tcz", () => {
  const src = serviceTree(join(dir, "svc"));

  it("writes NAME.tcz, .md5.txt, .list and .dep in the mirror's shapes, the same bytes twice", async () => {
    const outs = ["out1", "out2"].map((o) => join(dir, o));
    for (const out of outs) {
      const r = await mkbundleAsync(["tcz", src, "--name", "my-svc", "--dep", "bash,ncurses.tcz", "--out", out], {
        env: { SOURCE_DATE_EPOCH: EPOCH },
      });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.trim()).toBe(join(out, "my-svc.tcz"));
    }
    const [a, b] = outs.map((o) => readFileSync(join(o, "my-svc.tcz")));
    expect(a!.equals(b!)).toBe(true);
    expect(readdirSync(outs[0]!).sort()).toEqual([
      "my-svc.tcz",
      "my-svc.tcz.dep",
      "my-svc.tcz.list",
      "my-svc.tcz.md5.txt",
    ]);
    expect(sh(`cd ${q(outs[0]!)} && md5sum -c my-svc.tcz.md5.txt`).toString()).toBe("my-svc.tcz: OK\n");
    expect(readFileSync(join(outs[0]!, "my-svc.tcz.dep"), "utf8")).toBe("bash.tcz\nncurses.tcz\n");
    expect(readFileSync(join(outs[0]!, "my-svc.tcz.list"), "utf8")).toBe(
      "usr/local/bin/data\nusr/local/bin/svc\nusr/local/bin/svc-alias\nusr/local/share/svc/data.txt\n",
    );
    // Owned by root, dated by the epoch, links kept as links.
    const listed = sh(`unsquashfs -lln ${q(join(outs[0]!, "my-svc.tcz"))}`).toString();
    expect(listed).toMatch(/-rwxr-xr-x 0\/0\s+19 2023-11-14 22:13 squashfs-root\/usr\/local\/bin\/svc\n/);
    expect(listed).toContain("squashfs-root/usr/local/bin/data -> /usr/local/share/svc/data.txt");
    expect(listed).not.toMatch(/ [1-9]\d*\/\d+ /);
  });

  it("refuses a FIFO, a link that loops, a link out of the directory, a bad name: one line, nothing in --out", async () => {
    const cases: [string, (root: string) => void, RegExp][] = [
      ["fifo", (root) => sh(`mkfifo ${q(join(root, "pipe"))}`), /pipe: is a FIFO, socket or device node/],
      [
        "loop",
        (root) => {
          symlinkSync("b", join(root, "a"));
          symlinkSync("a", join(root, "b"));
        },
        /a: is a symbolic link that loops \('b'\)/,
      ],
      [
        "escape",
        (root) => symlinkSync("../../etc/shadow", join(root, "usr/x")),
        /usr\/x: its link target '..\/..\/etc\/shadow' leads outside the directory/,
      ],
    ];
    for (const [name, spoil, says] of cases) {
      const root = serviceTree(join(dir, `bad-${name}`));
      mkdirSync(join(root, "usr"), { recursive: true });
      spoil(root);
      const out = join(dir, `out-bad-${name}`);
      const r = await mkbundleAsync(["tcz", root, "--name", "bad", "--out", out]);
      expect(r.code, `${name}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(says);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(() => readdirSync(out)).toThrow(/ENOENT/);
    }
    const named = await mkbundleAsync(["tcz", src, "--name", "../evil", "--out", join(dir, "out-name")]);
    expect(named.code).toBe(2);
    expect(named.stderr).toMatch(/--name '..\/evil' is not an extension name/);
  });

  it("a file that grows or shrinks after it was found is refused, and no .tcz is left", async () => {
    for (const change of ["grow", "shrink"] as const) {
      const root = serviceTree(join(dir, `changing-${change}`));
      const entries = sourceTree(root, 1_700_000_000);
      const data = join(root, "usr/local/share/svc/data.txt");
      if (change === "grow") appendFileSync(data, "more");
      else truncateSync(data, 10);
      const out = join(dir, `out-${change}`);
      await expect(writeTcz(entries, { name: "changing", deps: [], out, epoch: 1_700_000_000 })).rejects.toThrow(
        /data\.txt: was replaced or changed during the build/,
      );
      expect(readdirSync(out)).toEqual([]);
    }
  });
});
