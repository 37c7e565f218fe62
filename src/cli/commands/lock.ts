// `mkbundle lock MANIFEST`: resolve, download, verify and pin.
import type { Command } from "commander";
import { attributedTo, MkError } from "../../errors.js";
import { humanBytes } from "../../store/progress.js";
import {
  addFetchOptions,
  addGlobalOptions,
  globalsOf,
  loadManifest,
  resolveContext,
  withProgress,
  type FetchOptions,
} from "../options.js";
import { makeLog, stdout } from "../output.js";

interface LockOptions extends FetchOptions {
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
    const opts = globalsOf<LockOptions>(cmd);
    const log = makeLog(opts);
    if (opts.update && opts.frozen)
      throw new MkError("usage", "--update and --frozen contradict each other", { file: "mkbundle lock" });
    const input = loadManifest(file, opts, log);
    const ctx = resolveContext(opts, input, log);
    const { lockStage } = await import("../../lock/stage.js");
    const { lock, status, lockFile } = await attributedTo(file, () =>
      withProgress(ctx, () =>
        lockStage(
          {
            manifest: input.manifest,
            manifestFile: file,
            ...(opts.update ? { update: true } : {}),
            ...(opts.frozen ? { frozen: true } : {}),
          },
          ctx,
        ),
      ),
    );
    const total = lock.extensions.reduce((n, e) => n + e.size, 0);
    log.info(
      `${status === "up to date" ? `${lockFile} is up to date` : `${status} ${lockFile}`}: base ${lock.base.sha256.slice(0, 12)}, kernel ${lock.kernel ?? "unknown"}, ${lock.extensions.length} extensions (${humanBytes(total)}), ${lock.gems.length} gems`,
    );
    stdout(lockFile!);
  });
}
