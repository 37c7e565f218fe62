// NAME.tcz and the files a Tiny Core mirror keeps beside it, in the mirror's shapes:
// NAME.tcz.md5.txt ("<md5>  NAME.tcz"), NAME.tcz.list (every file and link, no leading slash)
// and, when there are dependencies, NAME.tcz.dep (one NAME.tcz a line). All are written to
// temporary names and renamed into place together: a failure leaves nothing half-written.
import { renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { MkError } from "../errors.js";
import { writeSquashfsFile } from "../formats/squashfs/writer.js";
import { ensureDir } from "../io/ensure-dir.js";
import { hashFile } from "../io/hash.js";
import { onInterrupt } from "../io/cleanup.js";
import { writeFileAtomic } from "../io/write-atomic.js";
import { EXTENSION_NAME, extensionName } from "../manifest/types.js";
import type { Entry } from "../tree/entry.js";

export interface TczOptions {
  name: string;
  deps: readonly string[];
  out: string;
  epoch: number;
  blockSize?: number;
}

export interface WrittenTcz {
  tcz: string;
  size: number;
  md5: string;
  sha256: string;
  files: string[];
}

function checkExtensionName(name: string, what: string): string {
  const n = extensionName(name);
  if (!EXTENSION_NAME.test(n) || n.length > 200)
    throw new MkError("usage", `${what} '${n}' is not an extension name`, {
      hint: "letters, digits and . _ + -, starting with a letter or digit, like my-service",
    });
  return n;
}

export async function writeTcz(entries: readonly Entry[], o: TczOptions): Promise<WrittenTcz> {
  const name = checkExtensionName(o.name, "--name");
  const deps = o.deps.map((d) => checkExtensionName(d, "--dep"));
  ensureDir(o.out);
  const tcz = join(o.out, `${name}.tcz`);
  const tmp = join(o.out, `.${name}.tcz.${process.pid}.tmp`);
  const forget = onInterrupt(() => rmSync(tmp, { force: true }));
  try {
    rmSync(tmp, { force: true });
    const size = await writeSquashfsFile(entries, tmp, {
      epoch: o.epoch,
      ...(o.blockSize ? { blockSize: o.blockSize } : {}),
    });
    const { md5, sha256 } = await hashFile(tmp);
    const list = entries
      .filter((e) => e.type !== "dir")
      .map((e) => `${e.path}\n`)
      .join("");
    await writeFileAtomic(`${tcz}.list`, Buffer.from(list));
    if (deps.length) await writeFileAtomic(`${tcz}.dep`, Buffer.from(deps.map((d) => `${d}.tcz\n`).join("")));
    else rmSync(`${tcz}.dep`, { force: true });
    await writeFileAtomic(`${tcz}.md5.txt`, Buffer.from(`${md5}  ${name}.tcz\n`));
    renameSync(tmp, tcz);
    return {
      tcz,
      size,
      md5,
      sha256,
      files: [tcz, `${tcz}.md5.txt`, `${tcz}.list`, ...(deps.length ? [`${tcz}.dep`] : [])],
    };
  } finally {
    rmSync(tmp, { force: true });
    forget();
  }
}
