// `mkbundle lock MANIFEST`: resolve, download, verify and pin.
import type { Command } from "commander";
import { manifestFileRun } from "../../context/manifest.js";
import { runLock } from "../../context/pipeline.js";
import { MkError } from "../../errors.js";
import { humanBytes } from "../../store/progress.js";
import { addFetchOptions, addGlobalOptions, globalsOf, sessionOf, type FetchOptions } from "../options.js";

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
    const session = sessionOf(cmd);
    if (opts.update && opts.frozen)
      throw new MkError("usage", "--update and --frozen contradict each other", { file: "mkbundle lock" });
    const { lock, status, lockFile } = await runLock(session, manifestFileRun(session, file), opts);
    const total = lock.extensions.reduce((n, e) => n + e.size, 0);
    session.log.info(
      `${status === "up to date" ? `${lockFile} is up to date` : `${status} ${lockFile}`}: base ${lock.base.sha256.slice(0, 12)}, kernel ${lock.kernel ?? "unknown"}, ${lock.extensions.length} extensions (${humanBytes(total)}), ${lock.gems.length} gems`,
    );
    session.print(lockFile!);
  });
}
