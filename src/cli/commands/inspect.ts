// `mkbundle ls` and `mkbundle cat`: look inside images without mounting anything.
import type { Command } from "commander";
import { runCat, runLs, runSize, writeSizePage } from "../../context/inspect.js";
import { manifestFileRun } from "../../context/manifest.js";
import { runBundle } from "../../context/pipeline.js";
import { MkError } from "../../errors.js";
import { renderSize, trimReport } from "../../inspect/size.js";
import { humanBytes } from "../../store/progress.js";
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

  addGlobalOptions(
    program
      .command("size")
      .summary("where an image's bytes go: kernel, initrds, extensions, ESP, and their largest directories")
      .description(
        "Read IMAGE (an ISO rebuild-iso wrote, or any Tiny Core ISO; a bundle is remastered into a temporary ISO first, " +
          "a manifest bundled and then remastered) and say what each of its parts costs: on the ISO, " +
          "unpacked, and in RAM at run time (an initrd unpacks into RAM; an extension on the CD is loop-mounted from " +
          "it and costs none; one inside an initrd is already counted there), then the ISO's own structure, which with " +
          "the parts adds up to its size; then the largest directories inside each part, --top at each level, --depth levels.\n\n" +
          "  mkbundle size build-files/hello-service-prod-1.0.0.iso --top 5\n" +
          "  mkbundle size build-files/hello-service-prod-1.0.0.iso --html build-files/hello-size.html",
      )
      .argument("<image>", "an ISO, a bundle (.tar.gz) or a manifest (.yaml)")
      .option("--top <n>", "directories kept at each level (the rest summed)", "8")
      .option("--depth <n>", "levels of directories shown under each part", "2")
      .option("--json", "print the report as JSON (schemas/size-report.schema.json)")
      .option(
        "--html <file>",
        "also write a page with a zoomable treemap and a table (one self-contained file that works offline)",
      ),
  ).action(async (given: string, opts: { top: string; depth: string; json?: boolean; html?: string }, cmd: Command) => {
    const session = sessionOf(cmd);
    const image = /\.ya?ml$/i.test(given)
      ? (await runBundle(session, manifestFileRun(session, given), {})).bundle.path
      : given;
    const count = (flag: string, v: string) => {
      if (!/^\d{1,3}$/.test(v) || Number(v) < 1)
        throw new MkError("usage", `${flag} ${v}: expected a whole number from 1 to 999`);
      return Number(v);
    };
    const shown = { top: count("--top", opts.top), depth: count("--depth", opts.depth) };
    // The page goes down to files: read deep once, cut to --top/--depth for the text.
    const deep = opts.html
      ? await runSize(session, image, { top: Math.max(shown.top, 60), depth: Math.max(shown.depth, 12) })
      : undefined;
    if (deep && opts.html) await writeSizePage(opts.html, deep);
    const report = deep ? trimReport(deep, shown) : await runSize(session, image, shown);
    const sink = lineSink(session.io.out);
    await sink.line(opts.json ? JSON.stringify(report, null, 2) : renderSize(report, humanBytes));
    await sink.end();
  });
}
