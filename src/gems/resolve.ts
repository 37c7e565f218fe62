// Gem resolution: for each gem the highest version that satisfies every requirement on it,
// recursing into runtime dependencies until nothing changes. Conflicts are reported.
import { MkError } from "../errors.js";
import { GEM_NAME, GEM_VERSION } from "../manifest/types.js";
import { parseInfoFile, type GemRelease } from "./compact-index.js";
import {
  compareVersions,
  describeConstraints,
  isPrerelease,
  parseRequirement,
  satisfies,
  type Constraint,
} from "./version.js";

export interface GemPin {
  name: string;
  version: string;
  sha256: string;
  requiredBy: string[];
}

/** The most gems one resolution may look up. */
const MAX_GEMS = 500;

interface Demand {
  constraints: Constraint[];
  from: string;
}

/** `info(name)` returns the compact index text, or undefined when the source has no such gem. */
export async function resolveGems(
  require: readonly string[],
  info: (name: string) => Promise<string | undefined>,
): Promise<GemPin[]> {
  const releases = new Map<string, GemRelease[]>();
  const releasesOf = async (name: string): Promise<GemRelease[]> => {
    let r = releases.get(name);
    if (!r) {
      // A gem index is remote input: its names become URLs and paths, and its dependencies
      // could fan out without end. Both are bounded.
      if (!GEM_NAME.test(name)) throw new MkError("input", `'${name.slice(0, 80)}' is not a gem name`);
      if (releases.size >= MAX_GEMS)
        throw new MkError(
          "resolve",
          `gem resolution needs more than ${MAX_GEMS} gems; is the gem source's index sane?`,
        );
      const text = await info(name);
      if (text === undefined) throw new MkError("resolve", `gem '${name}' is not on the gem source`);
      r = parseInfoFile(text).filter((x) => x.platform === "ruby");
      for (const release of r) {
        if (!GEM_VERSION.test(release.version))
          throw new MkError(
            "input",
            `the index of gem '${name}' has a version '${release.version.slice(0, 40)}' that is not a version`,
          );
        const bad = release.deps.find((d) => !GEM_NAME.test(d.name));
        if (bad)
          throw new MkError(
            "input",
            `gem '${name}' ${release.version} depends on '${bad.name.slice(0, 80)}', which is not a gem name`,
          );
      }
      releases.set(name, r);
    }
    return r;
  };

  const top: [string, Demand][] = require.map((line) => {
    const m = /^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(.*)$/.exec(line)!;
    return [m[1]!, { constraints: m[2] ? parseRequirement(m[2]) : [], from: "gems.require" }];
  });

  let picks = new Map<string, GemRelease>();
  for (let round = 0; round < 100; round++) {
    // Demands come from the manifest and from the dependencies of the current picks.
    const demands = new Map<string, Demand[]>();
    const add = (name: string, d: Demand) => demands.set(name, [...(demands.get(name) ?? []), d]);
    for (const [n, d] of top) add(n, d);
    for (const [n, r] of picks)
      for (const dep of r.deps) add(dep.name, { constraints: dep.constraints, from: `${n} ${r.version}` });
    const next = new Map<string, GemRelease>();
    for (const name of [...demands.keys()].sort()) {
      const ds = demands.get(name)!;
      const all = ds.flatMap((d) => d.constraints);
      const allowPre = all.some((c) => isPrerelease(c.version));
      const fits = (await releasesOf(name)).filter(
        (r) => (allowPre || !isPrerelease(r.version)) && all.every((c) => satisfies(r.version, c)),
      );
      if (!fits.length) {
        throw new MkError(
          "resolve",
          `no version of gem '${name}' satisfies ${ds.map((d) => `${describeConstraints(d.constraints)} (from ${d.from})`).join(" and ")}`,
        );
      }
      next.set(name, fits.sort((a, b) => compareVersions(b.version, a.version))[0]!);
    }
    const same = next.size === picks.size && [...next].every(([n, r]) => picks.get(n)?.version === r.version);
    picks = next;
    if (same) {
      return [...picks]
        .map(([name, r]) => {
          if (!r.sha256) throw new MkError("resolve", `gem ${name} ${r.version} has no checksum in the compact index`);
          const requiredBy = (demands.get(name) ?? []).map((d) => d.from.split(" ")[0]!).sort();
          return { name, version: r.version, sha256: r.sha256, requiredBy };
        })
        .sort((a, b) => a.name.localeCompare(b.name));
    }
  }
  throw new MkError("resolve", "gem resolution did not settle after 100 rounds");
}
