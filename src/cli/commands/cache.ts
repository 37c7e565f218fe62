// `mkbundle cache ls` and `mkbundle cache gc`: the content-addressed download cache.
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { MkError } from "../../errors.js";
import { lockedDigests, readLock } from "../../lock/lock-file.js";
import {
  collectGarbage,
  damagedBlobs,
  garbageOf,
  listBlobs,
  listIndex,
  openStore,
  removeBlob,
} from "../../store/cas.js";
import { humanBytes } from "../../store/progress.js";
import { addGlobalOptions, globalsOf } from "../options.js";
import { makeLog, stdout } from "../output.js";

export function cacheCommand(program: Command): void {
  const cache = program
    .command("cache")
    .summary("list or garbage-collect the content-addressed download cache")
    .description("The download cache lives in <work-dir>/cache: blobs named by sha256 and an index from URL to blob.");
  addGlobalOptions(
    cache
      .command("ls")
      .description("List cached blobs: sha256, size and the URLs they came from.")
      .option("--json", "print JSON"),
  ).action((opts: { json?: boolean }, cmd: Command) => {
    const store = openStore(globalsOf(cmd).workDir);
    const urls = new Map<string, string[]>();
    for (const r of listIndex(store)) if (r.sha256) urls.set(r.sha256, [...(urls.get(r.sha256) ?? []), r.url]);
    const blobs = listBlobs(store).map((b) => ({ ...b, urls: urls.get(b.sha256) ?? [] }));
    if (opts.json) stdout(JSON.stringify(blobs, null, 1));
    else if (blobs.length)
      stdout(blobs.map((b) => `${b.sha256} ${humanBytes(b.size).padStart(10)} ${b.urls.join(" ")}`).join("\n"));
  });
  cacheVerifyCommand(cache);
  addGlobalOptions(
    cache
      .command("gc")
      .description(
        "Show which blobs no lock file under PATHS references (default: the current directory, recursively), and " +
          "with --yes remove them. Without a lock file to keep, gc refuses to empty the cache unless --all is given " +
          "(Razor's flow writes no lock).\n\n" +
          "  mkbundle cache gc              # what would be removed\n" +
          "  mkbundle cache gc --yes        # remove it",
      )
      .argument("[paths...]", "directories or lock files to keep the pins of", ["."])
      .option("-y, --yes", "remove the blobs (without it, gc only lists them)")
      .option("--all", "allow removing every blob when no lock file was found"),
  ).action((paths: string[], opts: { yes?: boolean; all?: boolean }, cmd: Command) => {
    const globals = globalsOf(cmd);
    const log = makeLog(globals);
    const missing = paths.filter((p) => !statSync(p, { throwIfNoEntry: false }));
    if (missing.length)
      throw new MkError("usage", `${missing.join(", ")}: no such file or directory`, {
        file: "mkbundle cache gc",
        hint: "name directories or lock files whose pins to keep",
      });
    const store = openStore(globals.workDir);
    const locks = paths.flatMap((p) => findLocks(p));
    const keep = new Set(locks.flatMap((f) => lockedDigests(readLock(f)!)));
    const garbage = garbageOf(store, keep);
    const bytes = garbage.reduce((n, b) => n + b.size, 0);
    const what = `${garbage.length} blob${garbage.length === 1 ? "" : "s"} (${humanBytes(bytes)})`;
    const kept = `${keep.size} blob${keep.size === 1 ? "" : "s"} referenced by ${locks.length} lock file${locks.length === 1 ? "" : "s"}`;
    if (!locks.length && garbage.length && !opts.all)
      throw new MkError("usage", `no lock file under ${paths.join(", ")}: gc would remove all ${what}`, {
        file: "mkbundle cache gc",
        hint: "name the directories holding your .lock files, or pass --all --yes to empty the cache",
      });
    if (!opts.yes) {
      const urls = new Map(listIndex(store).flatMap((r) => (r.sha256 ? [[r.sha256, r.url] as const] : [])));
      for (const b of garbage)
        stdout(`${b.sha256} ${humanBytes(b.size).padStart(10)} ${urls.get(b.sha256) ?? ""}`.trimEnd());
      log.info(
        `would keep ${kept}; would remove ${what}${garbage.length ? ": run again with --yes to remove them" : ""}`,
      );
      return;
    }
    const { removed, freed } = collectGarbage(store, keep);
    log.info(`kept ${kept}; removed ${removed} blob${removed === 1 ? "" : "s"} (${humanBytes(freed)})`);
  });
}

function cacheVerifyCommand(cache: Command): void {
  addGlobalOptions(
    cache
      .command("verify")
      .description(
        "Hash every cached blob and list those whose bytes no longer match their sha256 (a flipped bit, a replaced file). " +
          "--repair removes them; the next lock or build fetches them again. Exit 1 when damaged blobs remain.",
      )
      .option("--repair", "remove damaged blobs"),
  ).action(async (opts: { repair?: boolean }, cmd: Command) => {
    const globals = globalsOf(cmd);
    const log = makeLog(globals);
    const store = openStore(globals.workDir);
    const blobs = listBlobs(store);
    const damaged = await damagedBlobs(store);
    for (const d of damaged) {
      if (opts.repair) removeBlob(store, d.sha256);
      log.warn(`${d.sha256}: its bytes hash to ${d.actual} (${humanBytes(d.size)})${opts.repair ? "; removed" : ""}`);
    }
    log.info(
      `${blobs.length} blobs checked, ${damaged.length} damaged${damaged.length && opts.repair ? ", removed: the next build fetches them again" : ""}`,
    );
    if (damaged.length && !opts.repair)
      throw new MkError("verify", `${damaged.length} damaged blob${damaged.length > 1 ? "s" : ""} in ${store.root}`, {
        hint: "mkbundle cache verify --repair removes them",
      });
  });
}

function findLocks(path: string): string[] {
  const st = statSync(path);
  if (st.isFile()) return path.endsWith(".lock") ? [path] : [];
  return readdirSync(path)
    .filter((n) => !["node_modules", ".git", "tmp-build-dir", "build-files"].includes(n))
    .flatMap((n) => {
      const p = join(path, n);
      const s = statSync(p, { throwIfNoEntry: false });
      return s?.isDirectory()
        ? findLocks(p)
        : s?.isFile() && n.endsWith(".lock") && n !== "package-lock.json"
          ? [p]
          : [];
    });
}
