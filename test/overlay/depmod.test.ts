// depmod's rules where real modules rarely go (test/overlay/kernel-modules.test.ts compares
// real trees with kmod's depmod): modules that need each other in a loop are left out of
// modules.dep, and so are they as anyone's dependency; a symbol two modules export belongs to
// the later one in module order; modules not in modules.order come after it, by path.
import { describe, expect, it } from "vitest";
import type { KernelModule } from "../../src/formats/elf/kernel-module.js";
import { depmod, moduleName } from "../../src/overlay/depmod.js";

const mod = (exports: string[], imports: string[], alias: string[] = []): KernelModule => ({
  bits: 64,
  machine: 62,
  modinfo: alias.map((a) => ["alias", a]),
  exports,
  imports: imports.map((name) => ({ name, weak: false })),
});

describe("depmod", () => {
  it("leaves a loop out, gives a twice-exported symbol to the later module, and orders by modules.order then path", () => {
    const out = depmod(
      [
        { path: "kernel/z-last.ko", module: mod([], ["shared"]) },
        { path: "kernel/a.ko", module: mod(["a_sym"], ["b_sym"]) },
        { path: "kernel/b.ko", module: mod(["b_sym"], ["a_sym"]) },
        { path: "kernel/user.ko", module: mod([], ["a_sym", "base_sym"], ["pci:v00008086d*"]) },
        { path: "kernel/base.ko", module: mod(["base_sym", "shared"], []) },
        { path: "kernel/newer.ko", module: mod(["shared"], []) },
      ],
      ["kernel/base.ko", "kernel/newer.ko", "kernel/a.ko", "kernel/b.ko", "kernel/user.ko"],
    );
    expect(out.loops).toEqual(["kernel/a.ko", "kernel/b.ko"]);
    expect(out["modules.dep"]).toBe(
      [
        "kernel/base.ko:",
        "kernel/newer.ko:",
        "kernel/user.ko: kernel/base.ko",
        "kernel/z-last.ko: kernel/newer.ko",
        "",
      ].join("\n"),
    );
    expect(out["modules.alias"]).toBe("# Aliases extracted from modules themselves.\nalias pci:v00008086d* user\n");
    expect(out["modules.symbols"]).toContain("alias symbol:shared newer\n");
    expect(moduleName("kernel/lib/crc-itu-t.ko.gz")).toBe("crc_itu_t");
  });
});
