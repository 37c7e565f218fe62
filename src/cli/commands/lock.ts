// `mkbundle lock MANIFEST`: resolve, download, verify and pin.
import type { Command } from "commander";
import { fileError, UserError } from "../../manifest/diagnostic.js";
import { humanBytes } from "../../store/progress.js";
import { addFetchOptions, type FetchOptions } from "../fetch-options.js";
import { addGlobalOptions, globalsOf } from "../global-options.js";
import { loadResolvedWithDir } from "../manifest-input.js";
import { makeLog, stdout, type GlobalOptions } from "../output.js";
import { resolveContext, withResolveErrors } from "../resolve-context.js";

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
          "Resolve the manifest against the mirror (dependency closures, -KERNEL names, gems), download " +
            "and verify everything (.tcz against its .md5.txt, pins by sha256) into the cache, and write " +
            "<manifest>.lock next to the manifest. An up-to-date lock is kept and its downloads re-verified. " +
            "Exit 1 when anything is missing or corrupt: every problem is listed, missing extensions with " +
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
    const ctx = resolveContext(opts, manifest, baseDir, log);
    const { lockStage } = await import("../../lock/stage.js");
    const { lock, status, lockFile } = await withResolveErrors(file, ctx, () => lockStage({ manifest, manifestFile: file, ...(opts.update ? { update: true } : {}), ...(opts.frozen ? { frozen: true } : {}) }, ctx));
    const total = lock.extensions.reduce((n, e) => n + e.size, 0);
    log.info(`${status === "up to date" ? `${lockFile} is up to date` : `${status} ${lockFile}`}: base ${lock.base.sha256.slice(0, 12)}, kernel ${lock.kernel ?? "unknown"}, ${lock.extensions.length} extensions (${humanBytes(total)}), ${lock.gems.length} gems`);
    stdout(lockFile!);
  });
}
