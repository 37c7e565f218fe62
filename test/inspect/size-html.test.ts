// The treemap's layout on its own: every rectangle inside the box, the box covered, each area
// in proportion to its size, for sizes from one to a thousand and spreads of a billion to one.
import { describe, expect, it } from "vitest";
import { squarify } from "../../src/inspect/size-html.js";

function random(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

describe("squarify", () => {
  it.each([1, 2, 3, 7, 40, 1000])("%i sizes: in the box, covering it, areas in proportion", (n) => {
    const next = random(n);
    for (const spread of [1, 1e3, 1e9]) {
      const sizes = Array.from({ length: n }, () => 1 + Math.floor(next() ** 4 * spread)).sort((a, b) => b - a);
      const total = sizes.reduce((a, b) => a + b, 0);
      const rects = squarify(sizes, 10, 20, 960, 600);
      expect(rects).toHaveLength(n);
      let area = 0;
      rects.forEach(([x, y, w, h], i) => {
        expect(x!).toBeGreaterThanOrEqual(10 - 1e-6);
        expect(y!).toBeGreaterThanOrEqual(20 - 1e-6);
        expect(x! + w!).toBeLessThanOrEqual(970 + 1e-6);
        expect(y! + h!).toBeLessThanOrEqual(620 + 1e-6);
        expect(Math.abs((w! * h!) / (960 * 600) - sizes[i]! / total)).toBeLessThan(1e-9);
        area += w! * h!;
      });
      expect(Math.abs(area - 960 * 600)).toBeLessThan(1e-6);
    }
  });

  it("gives nothing a place in an empty box or for nothing", () => {
    expect(squarify([3, 1], 0, 0, 0, 10)).toEqual([
      [0, 0, 0, 0],
      [0, 0, 0, 0],
    ]);
    expect(squarify([0, 0], 0, 0, 10, 10)).toEqual([
      [0, 0, 0, 0],
      [0, 0, 0, 0],
    ]);
  });
});
