import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { describeMissing, resolveClosure } from "../../src/tinycore/closure.js";
import { parseDepFile } from "../../src/tinycore/dep-file.js";
import { expandKernel } from "../../src/tinycore/kernel-names.js";
import { defaultLabel, parseIsolinuxCfg } from "../../src/tinycore/isolinux-cfg.js";
import { kernelFromBzImage, kernelFromInitrd } from "../../src/tinycore/kernel-release.js";
import { parseMd5File } from "../../src/tinycore/md5-file.js";
import { fixturesDir } from "../helpers/paths.js";

const tcz = () => join(fixturesDir(), "tinycore/4.x/x86/tcz");

describe(".dep files", () => {
  it("parses the fixtures' real quirks: no final newline, trailing blanks, blank lines", () => {
    expect(readFileSync(join(tcz(), "ncurses.tcz.dep"), "utf8").endsWith("\n")).toBe(false);
    expect(parseDepFile(readFileSync(join(tcz(), "ncurses.tcz.dep"), "utf8"))).toEqual(["ncurses-common"]);
    expect(parseDepFile(readFileSync(join(tcz(), "acl.tcz.dep"), "utf8"))).toEqual(["libattr"]);
    expect(parseDepFile(readFileSync(join(tcz(), "coreutils.tcz.dep"), "utf8"))).toEqual([
      "acl",
      "attr",
      "gmp",
      "libcap",
    ]);
  });

  it("handles empty files, CRLF, missing .tcz and duplicates", () => {
    expect(parseDepFile("")).toEqual([]);
    expect(parseDepFile("\n\n  \n")).toEqual([]);
    expect(parseDepFile("a.tcz\r\nb  \r\n\r\na\nc.tcz")).toEqual(["a", "b", "c"]);
  });

  it("expands -KERNEL names", () => {
    expect(expandKernel("scsi-KERNEL", "3.0.21-tinycore")).toBe("scsi-3.0.21-tinycore");
    expect(expandKernel("bash", undefined)).toBe("bash");
    expect(() => expandKernel("scsi-KERNEL", undefined)).toThrow(/kernel release is unknown/);
  });
});

describe(".md5.txt files", () => {
  it("reads md5sum's format", () => {
    expect(parseMd5File(readFileSync(join(tcz(), "bash.tcz.md5.txt"), "utf8"))).toMatch(/^[0-9a-f]{32}$/);
    expect(parseMd5File("nonsense")).toBeUndefined();
  });
});

describe("kernel release", () => {
  it("reads the fixture kernel's bzImage header", () => {
    const vmlinuz = readFileSync(join(fixturesDir(), "tinycore/4.x/x86/release/distribution_files/vmlinuz"));
    expect(kernelFromBzImage(vmlinuz)).toBe("3.0.21-tinycore");
    expect(kernelFromBzImage(Buffer.alloc(4096))).toBeUndefined();
  });

  it("prefers lib/modules/<release> in the initrd and ignores an empty lib/modules", () => {
    const d = (path: string) => ({ path, type: "dir" as const, mode: 0o755, uid: 0, gid: 0, mtime: 0, size: 0 });
    expect(kernelFromInitrd([d("lib"), d("lib/modules")])).toBeUndefined();
    expect(
      kernelFromInitrd([d("lib/modules"), d("lib/modules/6.6.8-tinycore64"), d("lib/modules/6.6.8-tinycore64/kernel")]),
    ).toBe("6.6.8-tinycore64");
  });
});

describe("isolinux.cfg", () => {
  it("finds the default label of the Tiny Core 4.x config", () => {
    const cfg = parseIsolinuxCfg(
      "display boot.msg\ndefault microcore\nlabel microcore\n\tkernel /boot/vmlinuz\n\tinitrd /boot/core.gz\n\tappend loglevel=3 nozswap\n\nlabel mc\n\tkernel /boot/vmlinuz\n\tappend initrd=/boot/core.gz loglevel=3\nimplicit 0\nprompt 1\ntimeout 300\n",
    );
    expect(cfg.timeout).toBe(300);
    expect(defaultLabel(cfg)).toMatchObject({
      name: "microcore",
      kernel: "/boot/vmlinuz",
      initrds: ["/boot/core.gz"],
      append: ["loglevel=3", "nozswap"],
    });
    expect(cfg.labels[1]).toMatchObject({ name: "mc", initrds: ["/boot/core.gz"], append: ["loglevel=3"] });
  });

  it("reads initrd= lists on the append line (CorePure64 style)", () => {
    const cfg = parseIsolinuxCfg(
      "default corepure64\nlabel corepure64\nkernel /boot/vmlinuz64\nappend initrd=/boot/corepure64.gz,/boot/extra.gz quiet\n",
    );
    expect(defaultLabel(cfg)).toMatchObject({
      kernel: "/boot/vmlinuz64",
      initrds: ["/boot/corepure64.gz", "/boot/extra.gz"],
      append: ["quiet"],
    });
  });
});

describe("dependency closure", () => {
  const graph: Record<string, string[]> = {
    coreutils: ["acl", "attr", "gmp", "libcap"],
    acl: ["libattr"],
    attr: ["libattr"],
    libcap: ["libattr"],
    gmp: [],
    libattr: [],
    bash: ["ncurses"],
    ncurses: ["ncurses-common"],
    "ncurses-common": [],
    a: ["b"],
    b: ["a"],
    osslsigncode: ["openssl-1.1.1"],
  };
  const lookup = async (n: string) => graph[n];

  it("orders dependencies before dependents, deterministically", async () => {
    const c = await resolveClosure(["coreutils", "bash"], "extensions.builtin", lookup);
    expect(c.order.map((n) => n.name)).toEqual([
      "libattr",
      "acl",
      "attr",
      "gmp",
      "libcap",
      "coreutils",
      "ncurses-common",
      "ncurses",
      "bash",
    ]);
    expect(c.order.find((n) => n.name === "libattr")!.requiredBy).toEqual(["acl", "attr", "libcap"]);
    expect(c.order.find((n) => n.name === "bash")!.requiredBy).toEqual(["extensions.builtin"]);
    expect(c.missing).toEqual([]);
  });

  it("reports loops without hanging", async () => {
    const c = await resolveClosure(["a"], "extensions.mirror", lookup);
    expect(c.loops).toEqual([["a", "b", "a"]]);
    expect(c.order.map((n) => n.name)).toEqual(["b", "a"]);
  });

  it("reports every missing extension with the chain that pulled it in", async () => {
    const c = await resolveClosure(["osslsigncode", "nothere", "bash"], "extensions.builtin", lookup);
    expect(c.missing.map(describeMissing)).toEqual([
      "nothere.tcz: listed in extensions.builtin",
      "openssl-1.1.1.tcz: needed by osslsigncode.tcz, listed in extensions.builtin",
    ]);
  });
});
