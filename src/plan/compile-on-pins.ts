// The overlay a build would compile from a lock whose downloads are in the store, with every
// check a build runs on the image, and nothing written: what plan compares and what
// validate --strict reports.
import { pathSource } from "../io/byte-source.js";
import type { ResolveContext } from "../lock/context.js";
import type { Lock } from "../lock/lock-file.js";
import { mirrorProviders } from "../lock/provides-index.js";
import type { Log } from "../log.js";
import type { ManifestInput } from "../manifest/input.js";
import { compileOverlay, type CompiledOverlay } from "../overlay/compile.js";
import { tcShadowField, type TcPassword } from "../overlay/password.js";
import { blobPath } from "../store/cas.js";
import { openBaseImage } from "../tinycore/base-image.js";

export async function compileOnPins(
  input: ManifestInput,
  lock: Lock,
  o: { password: TcPassword; ctx: ResolveContext; log: Log; allowMissingCommands?: boolean },
): Promise<CompiledOverlay> {
  const { ctx, log } = o;
  const base = await openBaseImage(blobPath(ctx.fetch.store, lock.base.sha256), ctx.limits);
  try {
    return await compileOverlay({
      manifest: input.manifest,
      lock,
      manifestDir: input.dir,
      locate: input.locate,
      blob: (s) => pathSource(blobPath(ctx.fetch.store, s)),
      base: await base.initrd(),
      tcField: tcShadowField(input.manifest, o.password, { reproducible: true, log }),
      log,
      limits: ctx.limits,
      providers: mirrorProviders(input.manifest, ctx),
      ...(o.allowMissingCommands ? { allowMissingCommands: true } : {}),
    });
  } finally {
    base.close();
  }
}
