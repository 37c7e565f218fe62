// `mkbundle tcz` as the context runs it: the directory walked, the extension written into --out,
// dated by the configuration's epoch (SOURCE_DATE_EPOCH, else 2020-01-01).
import { existsSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { MkError } from "../errors.js";
import { sourceTree } from "../extension/source-tree.js";
import { writeTcz, type WrittenTcz } from "../extension/write-tcz.js";
import { configOf, type Session } from "./session.js";

export async function runTcz(
  s: Session,
  dir: string,
  o: { name: string; deps: readonly string[]; blockSize?: number },
): Promise<WrittenTcz> {
  const config = configOf(s);
  const root = resolve(dir);
  if (!existsSync(root) || !statSync(root).isDirectory())
    throw new MkError("usage", `${dir}: not a directory`, {
      hint: "mkbundle tcz DIR --name NAME packs DIR's contents",
    });
  const b = o.blockSize;
  if (b !== undefined && !(Number.isInteger(b) && b >= 4096 && b <= 1 << 20 && (b & (b - 1)) === 0))
    throw new MkError("usage", `--block-size ${b}: a power of two from 4096 to 1048576`, {
      hint: "Tiny Core's extensions use 4096",
    });
  const epoch = config.values.epoch;
  return writeTcz(sourceTree(root, epoch), { ...o, out: config.values.out, epoch });
}
