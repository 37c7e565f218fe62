// Gems from a compact-index source: resolved to pinned versions with their sha256, every
// .gem fetched and verified.
import { readFileSync } from "node:fs";
import { MkError } from "../errors.js";
import { resolveGems } from "../gems/resolve.js";
import type { ResolvedManifest } from "../manifest/types.js";
import { locationOf, under } from "../net/location.js";
import type { Collector } from "./collector.js";
import type { ResolveContext } from "./context.js";
import type { LockedGem } from "./lock-file.js";

/** Thrown through resolveGems when the gem source failed (not a 404): the collector already has the failure. */
const unreachable = new Error("gem source unreachable");

export async function resolveGemPins(
  m: ResolvedManifest,
  ctx: ResolveContext,
  c: Collector,
): Promise<{ gems: LockedGem[]; problems: string[] }> {
  if (!m.gems.require.length) return { gems: [], problems: [] };
  const source = locationOf(m.gems.source, ctx.baseDir);
  try {
    const gems = await resolveGems(m.gems.require, async (name) => {
      const f = await c.get(under(source, `info/${name}`), `gem index ${name}`, { metadata: true });
      if (f === null) throw unreachable; // the collector reports why: one cause, not "not on the gem source" too
      return f ? readFileSync(f.path, "utf8") : undefined;
    });
    await Promise.all(
      gems.map((g) =>
        c.get(under(source, `gems/${g.name}-${g.version}.gem`), `${g.name}-${g.version}.gem`, { sha256: g.sha256 }),
      ),
    );
    return { gems, problems: [] };
  } catch (e) {
    if (e === unreachable) return { gems: [], problems: [] };
    if (e instanceof MkError && e.code === "resolve")
      return { gems: [], problems: e.diagnostics.map((d) => `gems: ${d.message}`) };
    throw e;
  }
}
