// How an overlay is cut into layers: by each entry alone (its path's hash, its size), so a
// change moves no cut but its own; a hard link never leaves its file's layer.
import { describe, expect, it } from "vitest";
import { layerGroups } from "../../src/remaster/layers.js";
import type { Entry } from "../../src/tree/entry.js";

const file = (path: string, size = 10): Entry => ({ path, type: "file", mode: 0o644, uid: 0, gid: 0, mtime: 1, size });
const paths = (groups: Entry[][]) => groups.map((g) => g.map((e) => e.path));
const many = Array.from({ length: 2000 }, (_, i) => file(`opt/f${String(i).padStart(4, "0")}`));

describe("layerGroups", () => {
  it("keeps every entry, in order, in groups of tens", () => {
    const groups = layerGroups(many);
    expect(groups.flat()).toEqual(many);
    expect(groups.length).toBeGreaterThan(10);
    expect(groups.length).toBeLessThan(100);
  });

  it("moves no cut when a file's bytes change, and only its own when one grows past 1 MiB", () => {
    const before = paths(layerGroups(many));
    const bigger = many.map((e, i) =>
      i === 1000 ? { ...e, size: 5 * 1024 * 1024 } : i === 500 ? { ...e, size: 99 } : e,
    );
    const after = paths(layerGroups(bigger));
    const cut = after.findIndex((g) => g[g.length - 1] === "opt/f1000");
    expect(after.slice(0, cut).flat().length + after[cut]!.length).toBe(1001);
    expect(after.filter((_, i) => i !== cut && i !== cut + 1)).toEqual(
      before.filter((grp) => !grp.includes("opt/f1000") && !grp.includes("opt/f1001")),
    );
  });

  it("keeps a hard link in its file's layer, however far apart their paths are", () => {
    const link: Entry = { ...file("zz/link"), type: "hardlink", size: 0, linkTarget: "opt/f0001" };
    const groups = layerGroups([...many, link]);
    const withLink = groups.find((g) => g.includes(link))!;
    expect(withLink.some((e) => e.path === "opt/f0001")).toBe(true);
    expect(groups.flat()).toEqual([...many, link]);
  });
});
