// --kernel: boot an ISO's kernel and initrd directly (no isolinux), with the default label's
// boot codes plus --append. Several initrds are concatenated: the kernel reads them all.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openIso } from "../formats/iso9660/reader.js";
import { findBootFiles } from "../tinycore/boot-files.js";
import { readAllData } from "../tree/entry.js";

export interface ExtractedBoot {
  dir: string;
  kernel: string;
  initrd: string;
  append: string;
}

export async function extractKernelBoot(isoPath: string, extraAppend: readonly string[]): Promise<ExtractedBoot> {
  const iso = openIso(isoPath);
  try {
    const boot = await findBootFiles(iso.entries);
    const byPath = new Map(iso.entries.map((e) => [e.path, e]));
    const dir = mkdtempSync(join(tmpdir(), "mkbundle-run-"));
    const kernel = join(dir, "kernel");
    const initrd = join(dir, "initrd");
    writeFileSync(kernel, await readAllData(byPath.get(boot.kernel)!));
    writeFileSync(initrd, Buffer.concat(await Promise.all(boot.initrds.map((p) => readAllData(byPath.get(p)!)))));
    const codes = [...boot.label.append, ...extraAppend.filter((c) => !boot.label.append.includes(c))];
    return { dir, kernel, initrd, append: codes.join(" ") };
  } finally {
    iso.close();
  }
}
