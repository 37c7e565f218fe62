// UEFI firmware for run/test --uefi: MKBUNDLE_OVMF checked, Debian's OVMF found, code images
// mapped read-only as flash and combined ones given as -bios.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { qemuArgs } from "../../src/qemu/args.js";
import { findOvmf, firmwareArgs } from "../../src/qemu/ovmf.js";
import { tempDir } from "../helpers/tmp.js";

const { dir } = tempDir("mkbundle-ovmf-");

describe("OVMF", () => {
  it("MKBUNDLE_OVMF wins when it is a firmware file, and is a usage error when it is not", () => {
    const fw = join(dir, "edk2-x86_64-code.fd");
    writeFileSync(fw, Buffer.alloc(4096));
    expect(findOvmf(fw)).toBe(fw);
    expect(() => findOvmf(join(dir, "nope.fd"))).toThrow(/MKBUNDLE_OVMF '.*nope\.fd' is not a firmware file/);
    expect(() => findOvmf(dir)).toThrow(/is not a firmware file/);
  });

  it("finds Debian's ovmf package (installed by .ci/run)", () => {
    expect(findOvmf(undefined)).toMatch(/^\/usr\/share\/(OVMF|ovmf)\//);
  });

  it("code images are read-only flash, combined images -bios; the args carry them", () => {
    expect(firmwareArgs("/usr/share/OVMF/OVMF_CODE_4M.fd")).toEqual([
      "-drive",
      "if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd",
    ]);
    expect(firmwareArgs("/usr/share/ovmf/OVMF.fd")).toEqual(["-bios", "/usr/share/ovmf/OVMF.fd"]);
    const args = qemuArgs({
      iso: "x.iso",
      disk: "scratch",
      firmware: "/usr/share/ovmf/OVMF.fd",
      memoryMb: 512,
      ports: [],
      accel: "tcg",
      interactive: false,
    });
    expect(args.join(" ")).toMatch(/-bios \/usr\/share\/ovmf\/OVMF\.fd .*-drive file=x\.iso,format=raw,snapshot=on/);
  });
});
