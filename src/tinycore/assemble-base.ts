// A base ISO assembled from distribution files (Tiny Core's netboot set: vmlinuz64 +
// rootfs64.gz + modules64.gz, or one initrd) and, when given, ISOLINUX. The rest of the
// pipeline then treats it like any Core ISO. The same parts always give the same bytes:
// fixed dates, fixed names, a generated isolinux.cfg.
import { readFileSync, statSync } from "node:fs";
import { MkError } from "../errors.js";
import { pathSource } from "../io/byte-source.js";
import { iso9660 } from "../formats/iso9660/codec.js";
import { fileEntry, fileFrom, type Entry } from "../tree/entry.js";

/** The assembled ISO's dates: a constant, so that the lock's pin of it depends on the parts only. */
const ASSEMBLY_EPOCH = 1577836800;

const ISOLINUX_DIR = "boot/isolinux";
const CFG = `${ISOLINUX_DIR}/isolinux.cfg`;
const BIN = `${ISOLINUX_DIR}/isolinux.bin`;
const LDLINUX = `${ISOLINUX_DIR}/ldlinux.c32`;
const CATALOG = `${ISOLINUX_DIR}/boot.cat`;

export interface BaseParts {
  kernel: { name: string; path: string };
  /** In boot order. */
  initrds: { name: string; path: string }[];
  isolinux?: { bin: string; ldlinux: string; mbr?: string };
}

/** Where each part goes in the assembled ISO ('mbr': the system area). */
export function partPaths(p: { kernel: string; initrds: readonly string[]; isolinux?: { mbr?: unknown } }): {
  kernel: string;
  initrds: string[];
  bin: string;
  ldlinux: string;
  mbr: string;
} {
  return {
    kernel: `boot/${p.kernel}`,
    initrds: p.initrds.map((n) => `boot/${n}`),
    bin: BIN,
    ldlinux: LDLINUX,
    mbr: "mbr",
  };
}

/**
 * The label Tiny Core's own ISOs boot (`microcore`), with the codes its isolinux.cfg
 * carries; the manifest's boot.append and boot.timeout are applied later, as for any base.
 */
function generatedIsolinuxCfg(kernel: string, initrds: readonly string[]): string {
  return [
    "# Written by mkbundle for a base assembled from distribution files.",
    "default microcore",
    "label microcore",
    `\tkernel /${kernel}`,
    `\tinitrd ${initrds.map((p) => `/${p}`).join(",")}`,
    "\tappend loglevel=3",
    "prompt 1",
    "timeout 50",
    "",
  ].join("\n");
}

export function assembleBaseIso(parts: BaseParts): AsyncGenerator<Buffer> {
  const paths = partPaths({ kernel: parts.kernel.name, initrds: parts.initrds.map((i) => i.name) });
  const t = ASSEMBLY_EPOCH;
  const dir = (path: string): Entry => ({ path, type: "dir", mode: 0o755, uid: 0, gid: 0, mtime: t, size: 0 });
  const cfg = Buffer.from(generatedIsolinuxCfg(paths.kernel, paths.initrds));
  const entries: Entry[] = [
    dir("boot"),
    dir(ISOLINUX_DIR),
    fileFrom(paths.kernel, pathSource(parts.kernel.path), t),
    ...parts.initrds.map((i, n) => fileFrom(paths.initrds[n]!, pathSource(i.path), t)),
    fileEntry(CFG, cfg, t),
  ];
  const isolinux = parts.isolinux;
  if (isolinux)
    entries.push(fileFrom(BIN, pathSource(isolinux.bin), t), fileFrom(LDLINUX, pathSource(isolinux.ldlinux), t));
  return iso9660
    .write(entries, {
      epoch: t,
      volume: { volumeId: "Core", applicationId: "MKBUNDLE" },
      ...(isolinux ? { boot: { imagePath: BIN, catalogPath: CATALOG } } : {}),
      ...(isolinux?.mbr ? { hybridMbrCode: readMbr(isolinux.mbr) } : {}),
    })
    .stream();
}

/** isohdpfx.bin is 432 bytes of boot code (512 with a partition table that is replaced). */
function readMbr(path: string): Buffer {
  const size = statSync(path).size;
  if (size < 432 || size > 512)
    throw new MkError("input", `the isohybrid MBR is ${size} bytes; expected 432 to 512 (isohdpfx.bin)`);
  const b = Buffer.alloc(512);
  readFileSync(path).copy(b);
  b[510] = 0x55;
  b[511] = 0xaa;
  return b;
}
