// Tiny bzImage "kernels" for boot tests that need QEMU to run a guest but not Tiny Core: the
// real-mode setup code (entered at offset 0x200, as QEMU's and isolinux's loaders do) either
// prints a line on COM1 and halts, or resets the machine (a triple fault, which ends QEMU
// under -no-reboot, as a kernel crashing at boot would). And an ISO that boots one through
// the fixture's isolinux.
import { join } from "node:path";
import { openIso } from "../../src/formats/iso9660/reader.js";
import { writeIso } from "../../src/formats/iso9660/writer.js";
import { readContent, type Entry } from "../../src/tree/entry.js";
import { writeFileAtomic } from "../../src/io/write-atomic.js";
import { fixturesDir } from "./paths.js";
import { bufferSource } from "../../src/io/byte-source.js";

export const TINY_KERNEL_MARKER = "MKBUNDLE-TINY-KERNEL";

export function tinyKernel(behaviour: "print" | "reset"): Buffer {
  const k = Buffer.alloc(0x400 + 512);
  k[0x1f1] = 1; // setup sectors
  k.writeUInt32LE(32, 0x1f4); // syssize in 16-byte units
  k.writeUInt16LE(0xaa55, 0x1fe);
  Buffer.from([0xeb, 0x7e]).copy(k, 0x200); // jmp 0x280 (over the header)
  k.write("HdrS", 0x202, "latin1");
  k.writeUInt16LE(0x0206, 0x206); // boot protocol 2.06
  k[0x211] = 1; // loaded high
  k.writeUInt32LE(0x100000, 0x214);
  k.writeUInt32LE(0x7fffffff, 0x22c);
  k.writeUInt32LE(255, 0x238);
  // Code at 0x280 runs with CS = the setup segment + 0x20, so CS offset = file offset - 0x200.
  const code =
    behaviour === "reset"
      ? [0xfa, 0x2e, 0x0f, 0x01, 0x1e, 0x90, 0x00, 0xcc] // cli; lidt [cs:0x90] (a zero IDT at 0x290); int3
      : // push cs; pop ds; mov dx,0x3f8; mov si,0xa0; next: lodsb; test al,al; jz halt; out dx,al; jmp next; halt: cli; hlt; jmp $-1
        [
          0x0e, 0x1f, 0xba, 0xf8, 0x03, 0xbe, 0xa0, 0x00, 0xac, 0x84, 0xc0, 0x74, 0x03, 0xee, 0xeb, 0xf8, 0xfa, 0xf4,
          0xeb, 0xfd,
        ];
  Buffer.from(code).copy(k, 0x280);
  if (behaviour === "print") k.write(`${TINY_KERNEL_MARKER}\n\0`, 0x2a0, "latin1");
  return k;
}

/** The fixture's Core ISO with `kernel` as its boot/vmlinuz, booting at once with console=ttyS0. */
export async function tinyIso(dir: string, name: string, kernel: Buffer): Promise<string> {
  const src = await openIso(join(fixturesDir(), "tinycore/4.x/x86/release/Core-4.4.iso"));
  try {
    const entries: Entry[] = [];
    for (const e of src.entries) {
      if (e.path === "boot/vmlinuz") entries.push({ ...e, content: () => bufferSource(kernel), size: kernel.length });
      else if (e.path === "boot/isolinux/isolinux.cfg") {
        const cfg = readContent(e)
          .toString()
          .replace(/^(\s*append .*)$/m, "$1 console=ttyS0")
          .replace(/^timeout \d+$/m, "timeout 1")
          .replace(/^prompt 1$/m, "prompt 0");
        entries.push({ ...e, content: () => bufferSource(Buffer.from(cfg)), size: Buffer.byteLength(cfg) });
      } else entries.push(e);
    }
    const iso = join(dir, `${name}.iso`);
    await writeFileAtomic(
      iso,
      writeIso(entries, {
        epoch: 1700000000,
        boot: { imagePath: src.boot!.imagePath!, catalogPath: src.boot!.catalogPath! },
      }),
    );
    return iso;
  } finally {
    src.close();
  }
}
