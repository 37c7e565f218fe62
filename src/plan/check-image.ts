// `validate --strict` with a lock beside the manifest: the checks a build runs on the image
// (every program's shared libraries, service commands, the prod audit), on the lock's pins,
// nothing written. A lock that no longer matches the manifest is said, not re-resolved: it is
// what a reviewer must fix first.
import { existsSync } from "node:fs";
import { MkError, problem, type Diagnostic } from "../errors.js";
import type { ResolveContext } from "../lock/context.js";
import { lockPathFor } from "../lock/lock-file.js";
import { lockStage } from "../lock/stage.js";
import type { ManifestInput } from "../manifest/input.js";
import type { TcPassword } from "../overlay/password.js";
import { compileOnPins } from "./compile-on-pins.js";

export async function checkImage(
  input: ManifestInput & { file: string },
  password: TcPassword,
  ctx: ResolveContext,
): Promise<Diagnostic[] | undefined> {
  const lockFile = lockPathFor(input.file);
  if (!existsSync(lockFile)) return undefined;
  const found: Diagnostic[] = [];
  const log = { ...ctx.log, warn: () => {}, diagnostics: (ds: readonly Diagnostic[]) => void found.push(...ds) };
  try {
    const { lock } = await lockStage({ manifest: input.manifest, manifestFile: input.file, frozen: true }, ctx);
    await compileOnPins(input, lock, { password, ctx, log });
  } catch (e) {
    if (!(e instanceof MkError)) throw e;
    const stale = e.code === "resolve" && e.message.includes("is stale");
    const said = stale
      ? [
          {
            ...problem(lockFile, "the lock is stale (the manifest changed since): the image's checks did not run"),
            severity: "warning" as const,
            hint: `run mkbundle lock ${input.file}`,
          },
        ]
      : e.diagnostics.map((d) => (d.file ? d : { ...d, file: input.file }));
    found.push(...said);
  }
  return found;
}
