// ls and cat as the context runs them: the containers opened within this run's limits.
import type { ListedEntry } from "../inspect/format-listing.js";
import type { SizeReport } from "../inspect/size.js";
import type { Entry } from "../tree/entry.js";
import { attributedTo } from "../errors.js";
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

/**
 * `mkbundle size`: the report of an ISO, within this run's limits. A bundle is remastered
 * first (an ISO only, in a temporary directory: what rebuild-iso would write) and measured.
 */
export async function runSize(s: Session, file: string, o: { top: number; depth: number }): Promise<SizeReport> {
  const { sizeOfImage } = await import("../inspect/size.js");
  const { limits, sourceDateEpoch } = configOf(s);
  if (!(await isBundle(file))) return sizeOfImage(file, { ...o, limits });
  const [{ rebuildIso }, { tempDirectory }] = await Promise.all([
    import("../remaster/rebuild.js"),
    import("../io/temp.js"),
  ]);
  s.log.info(`${file}: a bundle; measuring the ISO rebuild-iso makes of it`);
  const r = await attributedTo(file, () =>
    rebuildIso({
      bundle: file,
      out: tempDirectory("size"),
      formats: ["iso"],
      skipBudget: true,
      builtin: "auto",
      limits,
      buildTime: sourceDateEpoch,
    }),
  );
  return { ...(await sizeOfImage(r.iso!.path, { ...o, limits })), file: `${file} (as rebuild-iso writes it)` };
}

/** `mkbundle size --html`: the page, written whole or not at all. */
export async function writeSizePage(file: string, report: SizeReport): Promise<void> {
  const [{ sizeHtml }, { writeFileAtomic }] = await Promise.all([
    import("../inspect/size-html.js"),
    import("../io/write-atomic.js"),
  ]);
  await writeFileAtomic(file, Buffer.from(sizeHtml(report)));
}

/** `mkbundle sbom`: the bundle's image as SPDX or CycloneDX JSON. */
export async function runSbom(s: Session, bundle: string, format: "spdx" | "cyclonedx"): Promise<string> {
  const [{ readBundle }, { sbomOf }, { MkError }] = await Promise.all([
    import("../bundle/read-bundle.js"),
    import("../bundle/sbom.js"),
    import("../errors.js"),
  ]);
  if ((await containerKind(bundle)) === "iso9660")
    throw new MkError("usage", "an image: the build writes its SBOM beside it (NAME.spdx.json, the sbom output)", {
      file: bundle,
      hint: "mkbundle sbom reads the bundle or the manifest it was built from",
    });
  const b = await readBundle(bundle, configOf(s).limits);
  return sbomOf(b.json, b.overlay, format);
}

/** What a file is, by its first bytes (codecs.ts), or undefined. */
async function containerKind(file: string): Promise<string | undefined> {
  const [{ detectContainer }, { DETECT_BYTES }, { fileSource }] = await Promise.all([
    import("../formats/codecs.js"),
    import("../formats/codec.js"),
    import("../io/byte-source.js"),
  ]);
  const src = fileSource(file);
  try {
    return detectContainer(src.read(0, Math.min(DETECT_BYTES, src.size)));
  } finally {
    src.close();
  }
}

/** A bundle: gzip'd tar whose first member is bundle.json (as bundle/bundle.ts writes it). */
async function isBundle(file: string): Promise<boolean> {
  if ((await containerKind(file)) !== "gzip") return false;
  const [{ gunzipSync, constants }, { fileSource }] = await Promise.all([
    import("node:zlib"),
    import("../io/byte-source.js"),
  ]);
  const src = fileSource(file);
  try {
    const head = gunzipSync(src.read(0, Math.min(64 * 1024, src.size)), {
      finishFlush: constants.Z_SYNC_FLUSH,
      maxOutputLength: 1024 * 1024,
    });
    return head.toString("latin1", 0, 12) === "bundle.json\0";
  } catch {
    return false; // not gzip after all: the ISO reader says what it is not
  } finally {
    src.close();
  }
}
