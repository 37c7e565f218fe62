// Every program the manifest brings into the image (files:, extract:, local extensions) has its
// interpreter and shared libraries there, found as the loader would find them: runpath (with
// $ORIGIN), the default directories, /etc/ld.so.conf; each library's own needs followed in
// turn. A program for another architecture than the base's is an error too. A missing library
// is reported at the manifest line that brought the program in, with the extensions that
// provide it according to the mirror's provides.db (advisory: it may lag the extensions).
import { keyPath, MkError, type Diagnostic } from "../errors.js";
import { elfOfEntry } from "../formats/elf/entry.js";
import { MACHINE_NAMES, type ElfInfo } from "../formats/elf/reader.js";
import type { Arch } from "../manifest/types.js";
import { printable, readSmallText, type Entry } from "../tree/entry.js";
import { followLinks } from "../tree/links.js";
import type { Provider, Providers } from "../tinycore/provides.js";
import type { OverlayInput } from "./types.js";

/** A file the manifest brought in, and the manifest key that did. */
export interface Brought {
  entry: Entry;
  at: (string | number)[];
  /** The mirror's extension it is from: a gap there (a .dep that forgot a library) is a warning. */
  fromMirror?: string;
  /** A program of the base or a builtin extension that prune: left in: only gaps a rule made are reported. */
  prunedOnly?: true;
}

const MACHINE: Record<Arch, { machine: number; bits: 32 | 64 }> = {
  x86: { machine: 3, bits: 32 },
  x86_64: { machine: 62, bits: 64 },
};

const DEFAULT_DIRS: Record<32 | 64, string[]> = {
  32: ["lib", "usr/lib", "usr/local/lib"],
  64: ["lib64", "lib", "usr/lib64", "usr/lib", "usr/local/lib"],
};

/**
 * Checks, and returns what the manifest's programs need as "SONAME OWNER" lines (the library,
 * and the extension, base or overlay the image has it from); undefined when the check is off.
 */
export async function checkLibraries(
  input: OverlayInput,
  get: (path: string) => Entry | undefined,
  brought: readonly Brought[],
  providers: Providers,
  /** The extensions the image has (builtin and local), which a provider's dependencies need not add. */
  present: ReadonlySet<string>,
  /** What puts a path in the image: an extension (NAME.tcz), the base or the overlay. */
  ownerOf: (path: string) => string,
  /** The prune: rule that removed a library of this name, if one did. */
  prunedBy: (lib: string) => string | undefined = () => undefined,
): Promise<string[] | undefined> {
  if (input.skipLibCheck || input.manifest.checks?.libraries === false) {
    const why = input.skipLibCheck ? "--no-lib-check" : "checks.libraries: false";
    input.log.warn(`${why}: the shared libraries of the programs this manifest brings in are not checked`);
    return undefined;
  }
  const needs = new Set<string>();
  const want = MACHINE[input.manifest.base.arch];
  const confDirs = await ldSoConf(get);
  const elfCache = new Map<string, ElfInfo | null>();
  const elfOf = (e: Entry): ElfInfo | null => {
    const cached = elfCache.get(e.path);
    if (cached !== undefined) return cached;
    const info = elfOfEntry(e);
    elfCache.set(e.path, info);
    return info;
  };
  const resolve = (path: string): Entry | undefined => {
    const f = followLinks(get, path);
    return "found" in f ? f.found : undefined;
  };
  const problems: Diagnostic[] = [];
  const mirrorGaps = new Set<string>();
  for (const b of brought) {
    const info = elfOf(b.entry);
    if (!info) continue;
    const where = input.locate?.(b.at) ?? { file: "", line: 0, column: 0 };
    // A gap in a mirror's extension is the mirror's (a warning); one that prune: made is the manifest's.
    const report = (message: string, hint?: string, ours = false) =>
      problems.push({
        severity: b.fromMirror && !ours ? "warning" : "error",
        ...where,
        path: keyPath(b.at),
        message: b.fromMirror ? `${b.fromMirror}.tcz (from the mirror): ${message}` : message,
        ...(hint ? { hint } : {}),
      });
    const name = `/${b.entry.path}`;
    if (b.prunedOnly && (info.machine !== want.machine || info.bits !== want.bits)) continue;
    if (info.machine !== want.machine || info.bits !== want.bits) {
      report(
        `${printable(name)} is a ${info.bits}-bit ${MACHINE_NAMES[info.machine] ?? `machine ${info.machine}`} program; this image is ${input.manifest.base.arch} (${want.bits}-bit ${MACHINE_NAMES[want.machine]})`,
        `use a build for ${input.manifest.base.arch}, or a base of the program's architecture`,
      );
      continue;
    }
    if (info.interpreter && !resolve(info.interpreter.replace(/^\/+/, ""))) {
      const rule = prunedBy(info.interpreter);
      if (rule)
        report(`${printable(name)} needs the loader ${info.interpreter}, which ${rule} removes`, KEEP_HINT, true);
      else if (!b.prunedOnly)
        report(`${printable(name)} needs the loader ${info.interpreter}, which is not in the image`);
      continue;
    }
    // Its libraries, and theirs, breadth first; each reported once, with who needs it.
    const seen = new Set<string>();
    const queue: { file: Entry; info: ElfInfo }[] = [{ file: b.entry, info }];
    while (queue.length) {
      const { file, info: fi } = queue.shift()!;
      const origin = file.path.includes("/") ? file.path.slice(0, file.path.lastIndexOf("/")) : "";
      const dirs = [
        ...(fi.runpath.length ? fi.runpath : fi.rpath).map((d) => d.replace(/\$\{?ORIGIN\}?/g, `/${origin}`)),
        ...confDirs,
        ...DEFAULT_DIRS[want.bits],
      ].map((d) => d.replace(/^\/+|\/+$/g, ""));
      for (const lib of fi.needed) {
        if (seen.has(lib)) continue;
        seen.add(lib);
        const found = lib.includes("/")
          ? resolve(lib.replace(/^\/+/, ""))
          : dirs.map((d) => resolve(d ? `${d}/${lib}` : lib)).find(Boolean);
        if (!found) {
          // A mirror extension's gap (or one prune: made in the base) once per library, not once per program.
          const gap = `${b.prunedOnly ? "" : b.fromMirror}\0${lib}`;
          if ((b.fromMirror || b.prunedOnly) && mirrorGaps.has(gap)) continue;
          mirrorGaps.add(gap);
          const who = file === b.entry ? "" : ` (for /${file.path})`;
          const rule = prunedBy(lib);
          if (rule) {
            report(`${printable(name)} needs ${printable(lib)}${who}, which ${rule} removes`, KEEP_HINT, true);
            continue;
          }
          if (b.prunedOnly) continue; // the base's own gaps are not this manifest's
          const offer = await providers(lib, present);
          report(
            `${printable(name)} needs ${printable(lib)}${who}, which nothing in the image provides`,
            offerHint(offer),
          );
          continue;
        }
        if (!b.fromMirror && !b.prunedOnly) needs.add(`${lib} ${ownerOf(found.path)}`);
        const li = elfOf(found);
        if (li) queue.push({ file: found, info: li });
      }
    }
  }
  const warnings = problems.filter((p) => p.severity === "warning");
  if (warnings.length) input.log.diagnostics(warnings);
  const errors = problems.filter((p) => p.severity === "error");
  if (errors.length) throw new MkError("manifest", errors);
  return [...needs].sort();
}

const KEEP_HINT = "narrow the rule, or add !PATH after it to keep the file";

/** Where to find a missing library: the providers that add the fewest extensions, best first. */
function offerHint(offer: Provider[] | undefined): string {
  if (offer === undefined)
    return "the mirror has no tcz/provides.db.gz to say which extension ships it; add the extension that has it, or pass --no-lib-check";
  if (!offer.length)
    return "no extension on the mirror provides it (per tcz/provides.db.gz); ship it with files:, or pass --no-lib-check";
  const more = (o: Provider) => {
    const others = o.adds.filter((n) => n !== o.extension);
    return others.length ? `, bringing ${others.map((n) => `${n}.tcz`).join(", ")}` : "";
  };
  return `${offer
    .slice(0, 3)
    .map((o) => `${o.extension}.tcz provides ${o.path}${more(o)}`)
    .join("; ")} (add it to extensions.builtin)`;
}

/** The directories /etc/ld.so.conf names in the image (its include lines are not followed). */
async function ldSoConf(get: (path: string) => Entry | undefined): Promise<string[]> {
  const f = followLinks(get, "etc/ld.so.conf");
  if (!("found" in f) || f.found.type !== "file") return [];
  return (await readSmallText(f.found))
    .split("\n")
    .map((l) => l.replace(/#.*$/, "").trim())
    .filter((l) => l.startsWith("/"));
}
