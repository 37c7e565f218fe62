// Manifest -> Lock: the base ISO, the kernel release, both extension closures and the
// gems, every file fetched through the verified store.
import { MkError } from "../errors.js";
import type { ResolvedManifest } from "../manifest/types.js";
import { describeLocation } from "../net/location.js";
import { openBaseImage, type KernelRelease } from "../tinycore/base-image.js";
import { resolveBase } from "./base.js";
import { resolveClosures } from "./closures.js";
import { collector } from "./collector.js";
import type { ResolveContext } from "./context.js";
import { resolveGemPins } from "./gems.js";
import { inputsDigest, type Lock } from "./lock-file.js";
import { resolveModuleDownloads } from "./module-downloads.js";
import { resolveUefiLoader } from "./uefi-loader.js";

/** The manifest's kernel:, else what the base ISO says (lib/modules in its initrd, its bzImage header). */
async function kernelOf(
  ctx: ResolveContext,
  m: ResolvedManifest,
  isoPath: string | undefined,
  label: string,
): Promise<{ release: string; source: NonNullable<Lock["kernelSource"]> } | undefined> {
  if (m.kernel) return { release: m.kernel, source: "manifest" };
  if (!isoPath) return undefined;
  let detected: KernelRelease | undefined;
  try {
    const base = await openBaseImage(isoPath, ctx.limits);
    try {
      detected = await base.kernelRelease();
    } finally {
      base.close();
    }
  } catch (e) {
    if (e instanceof MkError)
      throw new MkError("resolve", `base ISO ${label} is not a usable Tiny Core ISO: ${e.diagnostics[0]!.message}`);
    throw e;
  }
  return detected;
}

export async function resolveLock(m: ResolvedManifest, ctx: ResolveContext): Promise<Lock> {
  const c = collector(ctx);
  const base = await resolveBase(m, ctx, c);
  const kernel = await kernelOf(ctx, m, base.iso?.path, describeLocation(base.from));
  const closures = await resolveClosures(m, kernel?.release, ctx, c);
  if (closures.badNames.length)
    throw new MkError("input", closures.badNames, {
      hint: "the mirror's metadata names a path, not an extension: nothing was pinned",
    });
  const gems = await resolveGemPins(m, ctx, c);
  const uefiLoader = await resolveUefiLoader(m, ctx, c);
  const kernelModules = await resolveModuleDownloads(m, ctx, c);
  c.finish([...closures.problems, ...gems.problems]);
  return {
    lockVersion: 1,
    inputs: inputsDigest(m),
    manifest: m.name,
    mirror: describeLocation(ctx.mirror),
    release: m.base.release,
    arch: m.base.arch,
    ...(kernel ? { kernel: kernel.release, kernelSource: kernel.source } : {}),
    base: { url: describeLocation(base.from), sha256: base.iso!.sha256, size: base.iso!.size },
    ...(base.parts ? { baseParts: base.parts } : {}),
    ...(uefiLoader ? { uefiLoader } : {}),
    ...(kernelModules ? { kernelModules } : {}),
    extensions: closures.extensions,
    ...(m.gems.require.length ? { gemSource: m.gems.source } : {}),
    gems: gems.gems,
  };
}
