// PXE: the kernel, the initrd(s) and an iPXE script that boots them with the image's boot line.
import { join } from "node:path";
import { borrowedPieces } from "../../io/byte-source.js";
import { pxeDirName } from "../../outdir/names.js";
import type { OutputMaker } from "../output.js";
import { ipxeScript } from "../texts.js";

export const pxeOutput: OutputMaker = async (p, write) => {
  const dir = join(p.out, pxeDirName(p.name, p.flavour, p.version));
  const base = (path: string) => path.split("/").pop()!;
  const kernelName = base(p.kernel.path);
  const files = [await write(join(dir, kernelName), [p.kernel.bytes])];
  for (const i of p.initrds)
    files.push(await write(join(dir, base(i.path)), borrowedPieces(i.source, Buffer.allocUnsafe(1 << 20))));
  files.push(
    await write(join(dir, "boot.ipxe"), [
      Buffer.from(
        ipxeScript(
          kernelName,
          p.initrds.map((i) => base(i.path)),
          p.bootLine,
        ),
      ),
    ]),
  );
  return files;
};
