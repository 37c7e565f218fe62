// `mkbundle lock MANIFEST`: resolve, download, verify and pin.
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { fileError, UserError } from "../../manifest/diagnostic.js";
import { inputsDigest, lockPathFor, readLock, renderLock } from "../../lock/lock-file.js";
import { fetchLocked, ResolveError, resolveLock, type ResolveContext } from "../../lock/resolve.js";
import { mirrorRoot } from "../../store/location.js";
import { humanBytes } from "../../store/progress.js";
import { writeFileAtomic } from "../../util/write-atomic.js";
import { addFetchOptions, fetchContext, type FetchOptions } from "../fetch-options.js";
import { addGlobalOptions, globalsOf } from "../global-options.js";
import { loadResolvedWithDir } from "../manifest-input.js";
import { makeLog, stdout, type GlobalOptions } from "../output.js";

interface LockOptions extends FetchOptions, GlobalOptions {
  update?: boolean;
  frozen?: boolean;
}

export function lockCommand(program: Command): void {
  addFetchOptions(
    addGlobalOptions(
      program
        .command("lock")
        .summary("resolve and pin every extension, gem and the base ISO in <name>.lock")
        .description(
          "Resolve the manifest against the mirror (dependency closures, -KERNEL names, gems), download\n" +
            "and verify everything (.tcz against its .md5.txt, pins by sha256) into the cache, and write\n" +
            "<manifest>.lock next to the manifest. An up-to-date lock is kept and its downloads re-verified.\n" +
            "Exit 1 when anything is missing or corrupt: every problem is listed, missing extensions with\n" +
            "the chain that pulled them in.",
        )
        .argument("<manifest>", "manifest file (YAML)")
        .option("--update", "re-resolve even when the lock is up to date")
        .option("--frozen", "for CI: fail when the lock is missing or stale, or a download does not match it"),
    ),
  ).action(async (file: string, _opts: unknown, cmd: Command) => {
    const opts = globalsOf(cmd) as LockOptions;
    const log = makeLog(opts);
    if (opts.update && opts.frozen) throw new UserError([fileError("mkbundle lock", "--update and --frozen contradict each other")]);
    const { manifest, baseDir } = loadResolvedWithDir(file, opts, log);
    const lockFile = lockPathFor(file);
    const existing = readLock(lockFile);
    const fresh = existing?.inputs === inputsDigest(manifest);
    if (opts.frozen && !existing) throw new UserError([fileError(lockFile, "--frozen: the lock file does not exist", `run mkbundle lock ${file}`)], 1);
    if (opts.frozen && !fresh) throw new UserError([fileError(lockFile, "--frozen: the lock is stale (the manifest changed since it was written)", `run mkbundle lock ${file}`)], 1);
    const ctx: ResolveContext = {
      fetch: fetchContext(opts),
      // A relative --mirror is taken from the working directory, a relative mirror: from the manifest's.
      mirror: mirrorRoot(manifest.mirror, opts.mirror ? process.cwd() : baseDir),
      baseDir,
      warn: (m) => log.warn(m),
    };
    try {
      if (existing && fresh && !opts.update) {
        await fetchLocked(existing, manifest, ctx);
        ctx.fetch.progress.finish();
        log.info(`${lockFile} is up to date (${existing.extensions.length} extensions, ${existing.gems.length} gems verified)`);
        stdout(lockFile);
        return;
      }
      const lock = await resolveLock(manifest, ctx);
      ctx.fetch.progress.finish();
      const text = renderLock(lock, file);
      const before = existing ? readFileSync(lockFile, "utf8") : undefined;
      if (before !== text) await writeFileAtomic(lockFile, Buffer.from(text));
      const total = lock.extensions.reduce((n, e) => n + e.size, 0);
      log.info(`${before === text ? "unchanged" : existing ? "updated" : "wrote"} ${lockFile}: base ${lock.base.sha256.slice(0, 12)}, kernel ${lock.kernel ?? "unknown"}, ${lock.extensions.length} extensions (${humanBytes(total)}), ${lock.gems.length} gems`);
      stdout(lockFile);
    } catch (e) {
      ctx.fetch.progress.finish();
      if (e instanceof ResolveError) throw new UserError(e.problems.map((p) => fileError(file, p)), 1);
      throw e;
    }
  });
}
