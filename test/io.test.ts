import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { insideFileSource } from "../src/io/inside-file.js";
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

describe("insideFileSource: a files: source is read as the file that was checked", () => {
  const { dir: root } = tempDir("mkbundle-inside-");
  const manifestDir = join(root, "service");
  mkdirSync(join(manifestDir, "conf"), { recursive: true });
  writeFileSync(join(root, "secret"), "root::0:0:99999:7:::\n");
  writeFileSync(join(manifestDir, "conf", "app.conf"), "port=8080\n");
  symlinkSync("app.conf", join(manifestDir, "conf", "alias.conf"));

  it("reads a file, and a link that stays inside the directory", () => {
    expect(insideFileSource(manifestDir, "conf/app.conf").read(0, 100).toString()).toBe("port=8080\n");
    expect(insideFileSource(manifestDir, "conf/alias.conf").read(0, 100).toString()).toBe("port=8080\n");
  });

  it("refuses a path that leads outside when it is opened", () => {
    symlinkSync(join(root, "secret"), join(manifestDir, "conf", "out.conf"));
    expect(() => insideFileSource(manifestDir, "conf/out.conf")).toThrow(/resolves outside the manifest's directory/);
  });

  it("refuses to read once the file was swapped for a link to a file outside", () => {
    writeFileSync(join(manifestDir, "conf", "swap.conf"), "port=1\n");
    const src = insideFileSource(manifestDir, "conf/swap.conf");
    renameSync(join(manifestDir, "conf", "swap.conf"), join(manifestDir, "conf", "swap.old"));
    symlinkSync(join(root, "secret"), join(manifestDir, "conf", "swap.conf"));
    expect(() => src.read(0, 100)).toThrow(/no longer the file that was checked/);
  });

  it("refuses to read once a directory on the path was swapped for a link", () => {
    mkdirSync(join(root, "elsewhere"));
    writeFileSync(join(manifestDir, "conf", "dir.conf"), "x\n");
    writeFileSync(join(root, "elsewhere", "dir.conf"), "root::\n");
    const src = insideFileSource(manifestDir, "conf/dir.conf");
    renameSync(join(manifestDir, "conf"), join(manifestDir, "conf.old"));
    symlinkSync(join(root, "elsewhere"), join(manifestDir, "conf"));
    expect(() => src.read(0, 100)).toThrow(/no longer the file that was checked/);
  });
});
