// `mkbundle ls` and `mkbundle cat`: look inside images without mounting anything.
import type { Command } from "commander";
import { fileError, UserError } from "../../manifest/diagnostic.js";
import type { InspectError as InspectErrorType } from "../../inspect/open.js";
import { formatLine, toListed } from "../../inspect/format-listing.js";
import { readAllData } from "../../tree/entry.js";
import { addGlobalOptions } from "../global-options.js";

const CONTAINERS = "ISO 9660 image, cpio or gzip'd cpio (an initrd), squashfs (.tcz), tar or tar.gz; detected by content";

/** Inspection failures are build-class failures: exit 1, one line, no stack. */
async function inspecting<T>(what: (open: typeof import("../../inspect/open.js")) => Promise<T>): Promise<T> {
  const open = await import("../../inspect/open.js");
  try {
    return await what(open);
  } catch (e) {
    if (e instanceof open.InspectError) throw new UserError([fileError("mkbundle", (e as InspectErrorType).message)], 1);
    throw e;
  }
}

export function inspectCommands(program: Command): void {
  addGlobalOptions(
    program
      .command("ls")
      .summary("list a container and the containers inside it")
      .description(
        `List FILE (${CONTAINERS}). Each INNER names a path inside the previous layer; ` +
          "when it is a container, ls descends into it, when it is a directory, ls lists what is under it. " +
          "Lines: mode, uid, gid, size (or major,minor), mtime (UTC), path, -> symlink target.\n\n" +
          "  mkbundle ls image.iso boot/core.gz etc/init.d",
      )
      .argument("<file>", "container file")
      .argument("[inner...]", "paths inside it, each inside the previous")
      .option("--json", "print a JSON array of {path, type, mode, uid, gid, size, mtime, target, major, minor}"),
  ).action((file: string, inner: string[], opts: { json?: boolean }) =>
    inspecting(async ({ descend, listUnder }) => {
      const { layer, entry } = await descend(file, inner);
      const byPath = new Map(layer.entries.map((e) => [e.path, e]));
      const listed = (entry ? listUnder(layer, entry) : layer.entries).map((e) => toListed(e, byPath));
      process.stdout.write(opts.json ? JSON.stringify(listed, null, 1) + "\n" : listed.map(formatLine).join("\n") + (listed.length ? "\n" : ""));
    }),
  );

  addGlobalOptions(
    program
      .command("cat")
      .summary("write one file from inside nested containers to stdout")
      .description(`Write the bytes of the last INNER path to stdout. FILE: ${CONTAINERS}.\n\n  mkbundle cat Core.iso boot/core.gz etc/passwd`)
      .argument("<file>", "container file")
      .argument("<inner...>", "paths inside it, each inside the previous; the last must be a file"),
  ).action((file: string, inner: string[]) =>
    inspecting(async ({ descend, lookup, InspectError }) => {
      const { layer } = await descend(file, inner.slice(0, -1));
      const entry = lookup(layer, inner[inner.length - 1]!);
      if (entry.type !== "file" && entry.type !== "hardlink") throw new InspectError(`${layer.label}: '${entry.path}' is a ${entry.type}, not a file`);
      const bytes = await readAllData(entry);
      await new Promise<void>((resolve, reject) => process.stdout.write(bytes, (err) => (err ? reject(err) : resolve())));
    }),
  );
}
