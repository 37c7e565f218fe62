// `mkbundle cache ls` and `mkbundle cache gc`: the content-addressed download cache.
import type { Command } from "commander";
import { cacheStore, gcPlan } from "../../context/cache.js";
import { MkError } from "../../errors.js";
import type { Store } from "../../store/cas.js";
import { describeBlobs, listCache, runGc, verifyCache } from "../../store/maintain.js";
import { humanBytes } from "../../store/progress.js";
import { addGlobalOptions, sessionOf } from "../options.js";

/** The download cache of this run's --work-dir. */
const storeOf = (cmd: Command): Store => cacheStore(sessionOf(cmd));

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
    const { print } = sessionOf(cmd);
    const blobs = listCache(storeOf(cmd));
    if (opts.json) print(JSON.stringify(blobs, null, 2));
    else if (blobs.length)
      print(blobs.map((b) => `${b.sha256} ${humanBytes(b.size).padStart(10)} ${b.urls.join(" ")}`).join("\n"));
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
    const session = sessionOf(cmd);
    const { store, plan } = gcPlan(session, paths, opts);
    const kept = `${plan.keep.size} blob${plan.keep.size === 1 ? "" : "s"} referenced by ${plan.locks.length} lock file${plan.locks.length === 1 ? "" : "s"}`;
    const partials = plan.partials.length
      ? ` and ${plan.partials.length} partial download${plan.partials.length === 1 ? "" : "s"} of interrupted runs (${humanBytes(plan.partials.reduce((n, p) => n + p.size, 0))})`
      : "";
    if (!opts.yes) {
      for (const b of plan.garbage)
        session.print(`${b.sha256} ${humanBytes(b.size).padStart(10)} ${b.url ?? ""}`.trimEnd());
      session.log.info(
        `would keep ${kept}; would remove ${describeBlobs(plan.garbage)}${partials}${plan.garbage.length || partials ? ": run again with --yes to remove them" : ""}`,
      );
      return;
    }
    const { removed, freed } = runGc(store, plan);
    session.log.info(
      `kept ${kept}; removed ${removed} blob${removed === 1 ? "" : "s"}${partials} (${humanBytes(freed)})`,
    );
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
    const { log } = sessionOf(cmd);
    const store = storeOf(cmd);
    const { checked, damaged } = await verifyCache(store, !!opts.repair);
    for (const d of damaged)
      log.warn(`${d.sha256}: its bytes hash to ${d.actual} (${humanBytes(d.size)})${opts.repair ? "; removed" : ""}`);
    log.info(
      `${checked} blobs checked, ${damaged.length} damaged${damaged.length && opts.repair ? ", removed: the next build fetches them again" : ""}`,
    );
    if (damaged.length && !opts.repair)
      throw new MkError("verify", `${damaged.length} damaged blob${damaged.length > 1 ? "s" : ""} in ${store.root}`, {
        hint: "mkbundle cache verify --repair removes them",
      });
  });
}
