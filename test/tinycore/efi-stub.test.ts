// EFI stub detection on the real fixture kernels and on malformed headers.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkEfiStub, efiStubMachine } from "../../src/tinycore/efi-stub.js";
import { fixturesDir } from "../helpers/paths.js";

const kernel = (p: string) => readFileSync(join(fixturesDir(), "tinycore", p));

describe("EFI stub", () => {
  it("the 10.x Debian kernel has an x86_64 EFI stub; Tiny Core 4.x's 32-bit kernel has none", () => {
    expect(efiStubMachine(kernel("10.x/x86_64/release/distribution_files/vmlinuz64"))).toBe("x86_64");
    expect(efiStubMachine(kernel("4.x/x86/release/distribution_files/vmlinuz"))).toBeUndefined();
    expect(() =>
      checkEfiStub(kernel("4.x/x86/release/distribution_files/vmlinuz"), "boot/vmlinuz", "Core-4.4.iso"),
    ).toThrow(/the kernel \/boot\/vmlinuz of Core-4\.4\.iso has no EFI stub/);
  });

  it("malformed headers are no stub, never a crash", () => {
    const k = Buffer.from(kernel("10.x/x86_64/release/distribution_files/vmlinuz64").subarray(0, 4096));
    expect(efiStubMachine(k.subarray(0, 10))).toBeUndefined();
    const far = Buffer.from(k);
    far.writeUInt32LE(0xfffffff0, 0x3c);
    expect(efiStubMachine(far)).toBeUndefined();
    const ia32 = Buffer.from(k);
    ia32.writeUInt16LE(0x14c, ia32.readUInt32LE(0x3c) + 4);
    expect(efiStubMachine(ia32)).toBe("x86");
    expect(() => checkEfiStub(ia32, "boot/k", "b.iso")).toThrow(/is an EFI image for x86, not x86_64/);
  });
});
