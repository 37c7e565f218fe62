// persist: the data partition, an ext2 file system labelled as the boot codes look for it
// (home=LABEL=…, opt=LABEL=…), holding persist.seed's files (or only lost+found): Tiny Core's
// tc-config makes home/tc and opt on it at the first boot when they are not there. `data` writes it alone (for a CD or PXE boot with a second
// disk); `disk` writes the hybrid ISO with it appended as a second partition, one file that
// boots from a USB stick or as a VM's disk. A guest writes to it: checkDataKept (user-data.ts)
// refuses to replace what it wrote, before rebuild-iso writes anything.
import { join } from "node:path";
import { MkError } from "../../errors.js";
import { ext2 } from "../../formats/ext2/codec.js";
import type { Ext2Image } from "../../formats/ext2/writer.js";
import { hasHybridMbr, LINUX_PARTITION } from "../../formats/iso9660/hybrid.js";
import { dataFileName, diskFileName } from "../../outdir/names.js";
import type { OutputMaker } from "../output.js";
import type { PreparedRemaster } from "../prepare.js";
import { isoImage } from "./iso.js";
import { keepUserData } from "./user-data.js";

/**
 * Before any output is written: a disk image can boot (its base ISO is a hybrid), and the
 * data partitions these formats would replace are still a build's.
 */
export async function checkDataKept(p: PreparedRemaster, formats: readonly string[]): Promise<void> {
  for (const f of formats.filter((x) => x === "data" || x === "disk")) persistOf(p, f);
  if (formats.includes("disk") && !hasHybridMbr(p.base.iso.systemArea))
    throw new MkError(
      "input",
      `--format disk: the base ${p.bundle.json.base} is not an isohybrid ISO, so no disk image of it can boot`,
      {
        hint: "a base ISO with an isohybrid MBR boots as a disk; with this one, write iso,data and boot the ISO with mkbundle run ISO --data DATA.img",
      },
    );
  if (formats.includes("data"))
    await keepUserData(join(p.out, dataFileName(p.name, p.flavour, p.version)), p.force, "file");
  if (formats.includes("disk"))
    await keepUserData(join(p.out, diskFileName(p.name, p.flavour, p.version)), p.force, "disk");
}

function persistOf(p: PreparedRemaster, format: string) {
  const persist = p.bundle.json.manifest.persist;
  if (!persist)
    throw new MkError("usage", `--format ${format}: the manifest has no persist: key, so there is no data partition`, {
      hint: "add persist: { size: 64MiB } to the manifest",
    });
  return persist;
}

function dataPartition(p: PreparedRemaster, format: string): Ext2Image {
  const persist = persistOf(p, format);
  return ext2.write(p.bundle.seed, { epoch: p.epoch, size: persist.size, blockSize: 4096, label: persist.label });
}

export const dataOutput: OutputMaker = async (p, write) => {
  const image = dataPartition(p, "data");
  return [await write(join(p.out, dataFileName(p.name, p.flavour, p.version)), image.stream())];
};

export const diskOutput: OutputMaker = async (p, write) => {
  const data = dataPartition(p, "disk");
  const path = join(p.out, diskFileName(p.name, p.flavour, p.version));
  const iso = isoImage(p, { bytes: data.size, type: LINUX_PARTITION });
  async function* disk() {
    yield* iso.stream();
    yield* data.stream();
  }
  return [await write(path, disk())];
};
