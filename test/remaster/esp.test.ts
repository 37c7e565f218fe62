// What the ESP tells systemd-boot: the menu time from boot.timeout or the base's isolinux
// prompt, and an entry with the same boot line as isolinux and PXE.
import { describe, expect, it } from "vitest";
import { menuSeconds, systemdBootConfig } from "../../src/remaster/esp.js";

describe("systemd-boot configuration", () => {
  it("menu seconds: boot.timeout wins; else the isolinux prompt's tenths rounded up; no prompt is 0", () => {
    expect(menuSeconds({ timeout: 7 }, "prompt 1\ntimeout 300\n")).toBe(7);
    expect(menuSeconds({}, "prompt 1\ntimeout 300\n")).toBe(30);
    expect(menuSeconds({}, "PROMPT 1\nTIMEOUT 5\n")).toBe(1);
    expect(menuSeconds({}, "prompt 0\ntimeout 300\n")).toBe(0);
    expect(menuSeconds({}, "default microcore\n")).toBe(0);
  });

  it("one entry per image with every initrd in order; prod's line cannot be edited at the menu", () => {
    const c = systemdBootConfig(
      {
        name: "razor",
        flavour: "prod",
        version: "0.9.0.1",
        kernel: { path: "boot/vmlinuz64", bytes: Buffer.alloc(0) },
        initrds: [{ path: "boot/corepure64.gz" }, { path: "boot/razor.gz" }] as never,
        bootLine: ["loglevel=3", "console=ttyS0"],
      },
      0,
    );
    expect(c.loader).toBe("timeout 0\ndefault razor.conf\neditor no\n");
    expect(c.entry).toBe(
      "title razor 0.9.0.1 (prod)\nlinux /boot/vmlinuz64\ninitrd /boot/corepure64.gz\ninitrd /boot/razor.gz\noptions loglevel=3 console=ttyS0\n",
    );
  });
});
