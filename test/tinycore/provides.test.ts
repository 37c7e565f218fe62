// provides.db as Tiny Core's provides.sh reads it, and the ranking of the extensions that
// provide a missing library: fewest extensions added to the image first.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { autoDeps } from "../../src/extension/auto-deps.js";
import { fileEntry } from "../../src/tree/entry.js";
import { parseProvides, rankProviders, type Providers } from "../../src/tinycore/provides.js";
import { fixturesDir } from "../helpers/paths.js";
import { q, sh } from "../helpers/run.js";
import { tempDir } from "../helpers/tmp.js";

const { dir } = tempDir("mkbundle-provides-");
const saved = (path: string, bytes: Buffer) => (writeFileSync(path, bytes), path);

const DB = `big.tcz
usr/local/lib/libx.so.1
/usr/local/lib/liby.so.2

small.tcz
usr/local/lib/libx.so.1

solo.tcz
usr/local/lib/liby.so.2

looped.tcz
usr/local/lib/libz.so.3
`;
const DEPS: Record<string, string[]> = {
  big: ["a", "b"],
  a: ["c"],
  small: ["b"],
  looped: ["looped2"],
  looped2: ["looped"],
};
const lookup = async (name: string) => DEPS[name] ?? [];

describe("provides.db and the providers of a library", () => {
  it("parses records with or without leading slashes, by file name", () => {
    const i = parseProvides(DB);
    expect(i.byName.get("liby.so.2")).toEqual([
      { extension: "big", path: "usr/local/lib/liby.so.2" },
      { extension: "solo", path: "usr/local/lib/liby.so.2" },
    ]);
  });

  it("ranks by the extensions each would add: their closure less what the image has", async () => {
    const i = parseProvides(DB);
    const none = await rankProviders(i.byName.get("libx.so.1")!, lookup, new Set());
    expect(none.map((p) => [p.extension, p.adds])).toEqual([
      ["small", ["b", "small"]],
      ["big", ["c", "a", "b", "big"]],
    ]);
    // With a, b and c in the image, big adds only itself: it ties with small and wins by name.
    const most = await rankProviders(i.byName.get("libx.so.1")!, lookup, new Set(["a", "b", "c"]));
    expect(most.map((p) => [p.extension, p.adds.length])).toEqual([
      ["big", 1],
      ["small", 1],
    ]);
    // A .dep loop is cut, not followed forever.
    const loop = await rankProviders(i.byName.get("libz.so.3")!, lookup, new Set());
    expect(loop[0]!.adds.sort()).toEqual(["looped", "looped2"]);
  });

  it("--dep auto on parted (its real binary): each library's best provider, one brought by another dropped, the rest the base's", async () => {
    const parted = sh(
      `unsquashfs -cat ${q(join(fixturesDir(), "tinycore/10.x/x86_64/tcz/parted.tcz"))} usr/local/sbin/parted`,
    );
    const db = parseProvides(
      `p.tcz\nusr/local/lib/libparted.so.2\n\nrl.tcz\nusr/local/lib/libreadline.so.7\n\nbig.tcz\nusr/local/lib/libreadline.so.7\n`,
    );
    const deps: Record<string, string[]> = { p: ["rl"], big: ["a", "b"] };
    const providers: Providers = (name, present) =>
      rankProviders(db.byName.get(name) ?? [], async (n) => deps[n] ?? [], present);
    const r = await autoDeps(
      [
        fileEntry("usr/local/sbin/parted", parted, 0, 0o755),
        fileEntry("usr/local/lib/libncursesw.so.6", Buffer.from("shipped with it"), 0),
      ],
      providers,
      new Set(),
      "mine",
    );
    // readelf: parted needs libc.so.6, libparted.so.2, libreadline.so.7, libncursesw.so.6.
    expect(
      sh(`readelf -d ${q(saved(join(dir, "parted"), parted))} | grep -c NEEDED`)
        .toString()
        .trim(),
    ).toBe("4");
    expect(r.deps).toEqual(["p"]);
    expect(r.why.get("p")).toEqual(["libparted.so.2", "libreadline.so.7 through rl"]);
    expect(r.fromBase).toEqual(["libc.so.6"]);
  });
});
