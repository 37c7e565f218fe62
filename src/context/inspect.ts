// ls and cat as the context runs them: the containers opened within this run's limits.
import type { ListedEntry } from "../inspect/format-listing.js";
import type { SizeReport } from "../inspect/size.js";
import type { Entry } from "../tree/entry.js";
import { configOf, type Session } from "./session.js";

export async function runLs(
  s: Session,
  file: string,
  inner: readonly string[],
  each: (l: ListedEntry) => void | Promise<void>,
): Promise<void> {
  const { listContainer } = await import("../inspect/open.js");
  await listContainer(file, inner, configOf(s).limits, each);
}

/** Writes the file the last INNER path names to `out`. */
export async function runCat(
  s: Session,
  file: string,
  inner: readonly string[],
  out: NodeJS.WritableStream,
): Promise<void> {
  const [{ containedFile }, { writeEntryData }] = await Promise.all([
    import("../inspect/open.js"),
    import("../inspect/stream-out.js"),
  ]);
  const { entry, label }: { entry: Entry; label: string } = await containedFile(file, inner, configOf(s).limits);
  await writeEntryData(entry, out, label);
}

/** `mkbundle size`: the report of an ISO, within this run's limits. */
export async function runSize(s: Session, file: string, o: { top: number; depth: number }): Promise<SizeReport> {
  const { sizeOfImage } = await import("../inspect/size.js");
  return sizeOfImage(file, { ...o, limits: configOf(s).limits });
}
