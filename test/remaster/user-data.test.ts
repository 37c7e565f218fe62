// A data partition is replaced only while it is what a build wrote: the ext2 writer, given the
// files the partition holds and its own size, label and date, writes the same bytes. So a
// build's partition (with a seed of every entry kind) is replaced whatever the new seed; one
// written by another hand (debugfs, like a guest's mount), with one byte of a file changed,
// or made by mke2fs, is refused with exit 2 and left as it was; --force replaces anything.
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { MkError } from "../../src/errors.js";
import { readExt2 } from "../../src/formats/ext2/reader.js";
import { ext2Image } from "../../src/formats/ext2/writer.js";
import { fileSource } from "../../src/io/byte-source.js";
import { keepUserData } from "../../src/remaster/outputs/user-data.js";
import { collect, type Entry } from "../../src/tree/entry.js";
import { entryMakers, pattern } from "../helpers/entries.js";
import { q, sh } from "../helpers/run.js";
import { tempDir } from "../helpers/tmp.js";

const { dir } = tempDir("mkbundle-user-data-");
const EPOCH = 1_600_000_000;
const { d, f, link, hard, char, fifo } = entryMakers(EPOCH);
const sha = (p: string) => createHash("sha256").update(readFileSync(p)).digest("hex");

const SEED: Entry[] = [
  d("home"),
  d("home/tc", 0o755, 1001, 50),
  f("home/tc/app.conf", Buffer.from("port: 8080\n"), 0o600, 1001, 50),
  f("home/tc/big.db", pattern(300_000, 7), 0o644, 1001, 50),
  link("home/tc/current", "app.conf"),
  hard("home/tc/again", "home/tc/app.conf", 1001, 50),
  char("home/tc/null", 1, 3),
  fifo("home/tc/pipe"),
  ...Array.from({ length: 300 }, (_, i) => f(`opt/many/file-${i}-${"n".repeat(100)}`, Buffer.from(`${i}\n`))),
];

function written(name: string, entries: Entry[], size = 4 * 1024 ** 2): string {
  const path = join(dir, name);
  writeFileSync(
    path,
    ext2Image(entries, { epoch: EPOCH, size, blockSize: 4096, label: "keep" }).source().read(0, size),
  );
  return path;
}

const refused = async (path: string) => {
  const e = await keepUserData(path, false, "file").then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(MkError);
  expect((e as MkError).exitStatus).toBe(2);
  expect((e as MkError).message).toContain(`${path} holds data a build did not write (a guest's?): not replaced`);
};

describe("keepUserData", () => {
  it("reads back what it wrote and writes the same bytes: a build's partition, with any seed", async () => {
    const path = written("seeded.img", SEED);
    const again = ext2Image(await collect(readExt2(fileSource(path))), {
      epoch: EPOCH,
      size: 4 * 1024 ** 2,
      blockSize: 4096,
      label: "keep",
    });
    expect(createHash("sha256").update(again.source().read(0, again.size)).digest("hex")).toBe(sha(path));
    await keepUserData(path, false, "file");
    await keepUserData(written("empty.img", []), false, "file");
    await keepUserData(join(dir, "absent.img"), false, "file");
  });

  it("refuses a partition another hand wrote to, one byte changed, or mke2fs's; --force takes any", async () => {
    const guest = written("guest.img", SEED);
    writeFileSync(join(dir, "note"), "written by the guest\n");
    sh(`debugfs -w -R ${q(`write ${join(dir, "note")} home/tc/note`)} ${q(guest)} 2>/dev/null`);
    const before = sha(guest);
    await refused(guest);
    expect(sha(guest)).toBe(before);

    const tampered = written("tampered.img", SEED);
    const block = Number(
      /\d+/.exec(sh(`debugfs -R ${q("bmap home/tc/app.conf 0")} ${q(tampered)} 2>/dev/null`).toString())![0],
    );
    const bytes = readFileSync(tampered);
    bytes[block * 4096] = bytes[block * 4096]! ^ 1;
    writeFileSync(tampered, bytes);
    await refused(tampered);

    const theirs = join(dir, "mke2fs.img");
    sh(`mke2fs -q -F -t ext2 -b 4096 -L keep ${q(theirs)} 1024`);
    await refused(theirs);
    writeFileSync(join(dir, "junk.img"), Buffer.alloc(8192, 1));
    await refused(join(dir, "junk.img"));
    await keepUserData(guest, true, "file");
  });
});
