import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { writeFileAtomic } from "../src/io/write-atomic.js";
import { tempDir } from "./helpers/tmp.js";

const { dir } = tempDir("mkbundle-util-");

describe("writeFileAtomic", () => {
  it("writes buffers, lists and streams", async () => {
    await writeFileAtomic(join(dir, "a"), Buffer.from("one"));
    await writeFileAtomic(join(dir, "b"), [Buffer.from("t"), Buffer.from("wo")]);
    await writeFileAtomic(
      join(dir, "c"),
      (async function* () {
        yield Buffer.from("thr");
        yield Buffer.from("ee");
      })(),
    );
    expect(["a", "b", "c"].map((f) => readFileSync(join(dir, f), "utf8"))).toEqual(["one", "two", "three"]);
  });

  it("leaves neither the target nor a temporary file when the data fails", async () => {
    const failing = (async function* () {
      yield Buffer.from("partial");
      throw new Error("source broke");
    })();
    await expect(writeFileAtomic(join(dir, "broken"), failing)).rejects.toThrow("source broke");
    expect(existsSync(join(dir, "broken"))).toBe(false);
    expect(readdirSync(dir).filter((f) => f.includes("broken"))).toEqual([]);
  });
});
