// `mkbundle tcz DIR --name NAME [--dep a,b|auto]`: a directory packed as a Tiny Core extension.
import type { Command } from "commander";
import { runTcz } from "../../context/tcz.js";
import { MkError } from "../../errors.js";
import { humanBytes } from "../../store/progress.js";
import { addGlobalOptions, sessionOf } from "../options.js";

interface TczCliOptions {
  name: string;
  dep?: string;
  deps?: string;
  blockSize?: string;
  release?: string;
  arch?: string;
}

export function tczCommand(program: Command): void {
  addGlobalOptions(
    program
      .command("tcz")
      .summary("pack a directory as a Tiny Core extension (NAME.tcz with its .md5.txt, .list and .dep)")
      .description(
        "Write DIR's contents as --out/NAME.tcz: squashfs 4.0, gzip, 4 KiB blocks (what Tiny Core's own " +
          "extensions are), byte-identical for the same directory. Files keep their permission bits and are " +
          "owned by root; every time is the epoch (SOURCE_DATE_EPOCH, else 2020-01-01); symbolic links are " +
          "stored as links, never followed. Beside it: NAME.tcz.md5.txt, NAME.tcz.list and, with --dep, " +
          "NAME.tcz.dep, in the shapes a mirror uses. No root, no mksquashfs.\n\n" +
          "--dep auto works the .dep out instead: each shared library its programs need and do not ship is " +
          "looked up in the mirror's tcz/provides.db.gz for --release (and --arch, else the programs' own), " +
          "and the extension that provides it while adding the fewest others is chosen; a library no " +
          "extension provides is taken to be the base's (a build still checks the whole image).\n\n" +
          "  mkbundle tcz manifests/files/razor --name razor-files --dep bash --out build-files\n" +
          "  mkbundle tcz manifests/files/razor --name razor-files --dep auto --release 4.x --arch x86 --out build-files",
      )
      .argument("<dir>", "the directory whose contents become the extension's root (usr/local/...)")
      .requiredOption("--name <name>", "the extension's name (NAME.tcz)")
      .option("--dep <names>", "extensions it needs, comma-separated (written to NAME.tcz.dep), or auto")
      .option("--deps <names>", "the same as --dep")
      .option("--release <series>", "with --dep auto: the Tiny Core series whose provides.db is searched, like 10.x")
      .option("--arch <arch>", "with --dep auto: x86 or x86_64 (default: the architecture of the programs)")
      .option("--block-size <bytes>", "squashfs block size: 4096 (Tiny Core's) up to 1048576"),
    ["mirror", "work-dir"],
  ).action(async (dir: string, opts: TczCliOptions, cmd: Command) => {
    const session = sessionOf(cmd);
    const listed = [opts.dep, opts.deps].filter((d) => d !== undefined).join(",");
    const names = listed
      .split(",")
      .map((d) => d.trim())
      .filter(Boolean);
    if (names.includes("auto") && names.length > 1)
      throw new MkError("usage", "--dep auto works out every dependency: list names or auto, not both");
    const r = await runTcz(session, dir, {
      name: opts.name,
      deps: names[0] === "auto" ? "auto" : names,
      ...(opts.release ? { release: opts.release } : {}),
      ...(opts.arch ? { arch: opts.arch } : {}),
      ...(opts.blockSize !== undefined ? { blockSize: Number(opts.blockSize) } : {}),
    });
    session.log.info(`wrote ${r.tcz} (${humanBytes(r.size)}, md5 ${r.md5}) and ${r.files.length - 1} files beside it`);
    session.print(r.tcz);
  });
}
