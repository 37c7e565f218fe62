// `mkbundle ls` and `mkbundle cat`: look inside images without mounting anything.
import type { Command } from "commander";
import { runCat, runLs } from "../../context/inspect.js";
import { formatLine } from "../../inspect/format-listing.js";
import { addGlobalOptions, sessionOf } from "../options.js";
import { lineSink, type LineSink } from "../output.js";

/** Lines of what JSON.stringify(items, null, 2) prints (as every --json does), an item at a time. */
function jsonArray(sink: LineSink): { item(x: unknown): void | Promise<void>; end(): Promise<void> } {
  let previous: string | undefined;
  return {
    item(x) {
      const last = previous;
      previous = JSON.stringify(x, null, 2).replace(/^/gm, "  ");
      return sink.line(last === undefined ? "[" : `${last},`);
    },
    async end() {
      await sink.line(previous === undefined ? "[]" : `${previous}\n]`);
      await sink.end();
    },
  };
}

const CONTAINERS =
  "ISO 9660 image, cpio or gzip'd cpio (an initrd), squashfs (.tcz), tar or tar.gz, FAT (efi.img) or ext2 (a data partition); detected by content. A disk image (persist:) lists its data partition at its root as partitionN.img";

export function inspectCommands(program: Command): void {
  addGlobalOptions(
    program
      .command("ls")
      .summary("list a container and the containers inside it")
      .description(
        `List FILE (${CONTAINERS}). Each INNER names a path inside the previous layer; ` +
          "when it is a container, ls descends into it, when it is a directory, ls lists what is under it. " +
          "Lines: mode, uid, gid, size (or major,minor), mtime (UTC), path, -> symlink target.\n\n" +
          "  mkbundle ls build-files/hello-service-prod-1.0.0.iso boot/corepure64.gz etc/init.d",
      )
      .argument("<file>", "container file")
      .argument("[inner...]", "paths inside it, each inside the previous")
      .option("--json", "print a JSON array of {path, type, mode, uid, gid, size, mtime, target, major, minor}"),
  ).action(async (file: string, inner: string[], opts: { json?: boolean }, cmd: Command) => {
    const session = sessionOf(cmd);
    const sink = lineSink(session.io.out);
    if (opts.json) {
      const json = jsonArray(sink);
      await runLs(session, file, inner, (l) => json.item(l));
      await json.end();
    } else {
      await runLs(session, file, inner, (l) => sink.line(formatLine(l)));
      await sink.end();
    }
  });

  addGlobalOptions(
    program
      .command("cat")
      .summary("write one file from inside nested containers to stdout")
      .description(
        `Write the bytes of the last INNER path to stdout. FILE: ${CONTAINERS}.\n\n  mkbundle cat build-files/hello-service-prod-1.0.0.iso boot/corepure64.gz etc/passwd`,
      )
      .argument("<file>", "container file")
      .argument("<inner...>", "paths inside it, each inside the previous; the last must be a file"),
  ).action(async (file: string, inner: string[], _o: unknown, cmd: Command) => {
    const session = sessionOf(cmd);
    await runCat(session, file, inner, session.io.out);
  });
}
