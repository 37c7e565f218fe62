// Fetches (or finds in the store) everything a lock pins, each verified against its pin.
import type { ResolvedManifest } from "../manifest/types.js";
import type { Expect } from "../store/fetch.js";
import { describeLocation, locationOf, under, type Location } from "../net/location.js";
import { tczPath } from "../tinycore/mirror-layout.js";
import { baseIsoLocation } from "./base.js";
import { resolveBaseParts } from "./base-parts.js";
import { hasBlob } from "../store/cas.js";
import { collector, LOCK_PIN } from "./collector.js";
import { localExtension } from "./local-extensions.js";
import type { ResolveContext } from "./context.js";
import type { Lock } from "./lock-file.js";
import { moduleLocations } from "./module-downloads.js";
import { LOADER_LABEL, uefiLoaderLocation } from "./uefi-loader.js";

export async function fetchLocked(lock: Lock, m: ResolvedManifest, ctx: ResolveContext): Promise<void> {
  const c = collector(ctx);
  const gone: string[] = [];
  const need = async (from: Location, label: string, expect: Expect) => {
    if ((await c.get(from, label, expect, LOCK_PIN)) === undefined)
      gone.push(`${describeLocation(from)} is gone from the mirror (the lock pins sha256 ${expect.sha256})`);
  };
  const jobs: Promise<void>[] = [
    lock.baseParts
      ? hasBlob(ctx.fetch.store, lock.base.sha256)
        ? Promise.resolve()
        : resolveBaseParts(m, ctx, c, lock).then((r) => void gone.push(...r.missing.map((l) => `${l} is gone`)))
      : need(baseIsoLocation(m, ctx), m.base.url ?? m.base.iso!, { sha256: lock.base.sha256, size: lock.base.size }),
  ];
  const locals = new Map(m.extensions.local.map((l) => [l.name, l]));
  for (const e of lock.extensions) {
    const local = locals.get(e.name);
    if (local) {
      // Built again (or verified) from what the manifest names: the lock's pin must match it.
      jobs.push(
        localExtension(local, m, ctx).then((b) => {
          if (b.tcz.sha256 !== e.sha256)
            gone.push(
              `extensions.local ${e.name}: ${e.local ?? ""} gives sha256 ${b.tcz.sha256}, the lock pins ${e.sha256} (run mkbundle lock)`,
            );
        }),
      );
      continue;
    }
    jobs.push(
      need(under(ctx.mirror, tczPath(lock.release, lock.arch, e.name)), `${e.name}.tcz`, {
        sha256: e.sha256,
        md5: e.md5,
        size: e.size,
      }),
    );
    for (const [suffix, sha256] of Object.entries(e.files ?? {}))
      jobs.push(
        need(under(ctx.mirror, tczPath(lock.release, lock.arch, e.name, suffix as ".dep")), `${e.name}.tcz${suffix}`, {
          sha256,
          metadata: true,
        }),
      );
  }
  const loader = uefiLoaderLocation(m, ctx);
  if (loader && lock.uefiLoader)
    jobs.push(need(loader, LOADER_LABEL, { sha256: lock.uefiLoader.sha256, size: lock.uefiLoader.size }));
  moduleLocations(m, ctx).forEach((d, i) => {
    const pin = lock.kernelModules?.[i];
    if (pin) jobs.push(need(d.from, d.label, { sha256: pin.sha256, size: pin.size }));
  });
  if (lock.gems.length) {
    const source = locationOf(lock.gemSource ?? m.gems.source, ctx.baseDir);
    for (const g of lock.gems)
      jobs.push(
        need(under(source, `gems/${g.name}-${g.version}.gem`), `${g.name}-${g.version}.gem`, { sha256: g.sha256 }),
      );
  }
  await Promise.all(jobs);
  c.finish(gone);
}
