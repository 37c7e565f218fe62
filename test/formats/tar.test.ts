// tar both ways against GNU tar.
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { readTar } from "../../src/formats/tar/reader.js";
import { tarBytes } from "../../src/formats/tar/writer.js";
import { collect, type Entry } from "../../src/tree/entry.js";
import { reproducible } from "../../src/tree/reproducible.js";
import { q, sh } from "../helpers/run.js";
import { tempDir } from "../helpers/tmp.js";
import { makeEveryTypeTree, summarizeDisk, summarizeEntries } from "../helpers/tree.js";
import { bufferSource } from "../../src/io/byte-source.js";

const { dir } = tempDir("mkbundle-tar-");
const tree = join(dir, "tree");
let entries: Entry[];

beforeAll(async () => {
  makeEveryTypeTree(tree);
  sh(`tar -C ${q(tree)} --numeric-owner --sort=name -cf ${q(join(dir, "gnu.tar"))} .`);
  entries = await collect(readTar(readFileSync(join(dir, "gnu.tar"))));
});

describe("tar", () => {
  it("reads GNU tar's archive with every entry type", async () => {
    expect(await summarizeEntries(entries, { mtime: true })).toEqual(summarizeDisk(tree, { mtime: true }));
  });

  it("reads pax archives too", async () => {
    const pax = sh(`tar -C ${q(tree)} --numeric-owner --sort=name --format=pax -cf - .`);
    expect(await summarizeEntries(await collect(readTar(pax)))).toEqual(summarizeDisk(tree));
  });

  it("writes what GNU tar extracts byte-identically, with owners, devices and links", async () => {
    const ours = await tarBytes(entries);
    const out = join(dir, "extracted");
    mkdirSync(out);
    sh(`tar -C ${q(out)} --numeric-owner -xpf -`, { input: ours });
    expect(summarizeDisk(out)).toEqual(summarizeDisk(tree));
    const listing = sh("tar --numeric-owner -tvf -", { input: ours }).toString();
    expect(listing).toMatch(/^brw-rw---- 0\/0\s+7,0 .* loop0$/m);
    expect(listing).toMatch(/^hrw-r--r-- 0\/0\s+0 .* hl-b link to hl-a$/m);
  });

  it("through reproducible(): sorted and identical across runs, no time after the epoch", async () => {
    const a = await tarBytes(reproducible([...entries].reverse(), { epoch: 1234567890 }));
    const b = await tarBytes(reproducible(entries, { epoch: 1234567890 }));
    expect(a.equals(b)).toBe(true);
    const names = sh("tar -tf -", { input: a }).toString().trim().split("\n");
    expect(names).toEqual([...names].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))));
    const lines = sh("TZ=UTC tar --full-time -tvf -", { input: a }).toString().trim().split("\n");
    expect(lines.filter((l) => !l.includes("2009-02-13 23:31:30"))).toEqual([]);
    expect(a.toString("latin1")).not.toMatch(/root|cloudsdk/); // no user or group names
  });

  it("puts the first path of a hard-link group first, whatever the input named", async () => {
    const file: Entry = {
      path: "z",
      type: "file",
      mode: 0o644,
      uid: 0,
      gid: 0,
      mtime: 0,
      size: 2,
      content: () => bufferSource(Buffer.from("hi")),
    };
    const link: Entry = {
      path: "a",
      type: "hardlink",
      mode: 0o644,
      uid: 0,
      gid: 0,
      mtime: 0,
      size: 0,
      linkTarget: "z",
    };
    const out = join(dir, "links");
    mkdirSync(out);
    sh(`tar -C ${q(out)} -xf -`, { input: await tarBytes([file, link]) });
    expect(summarizeDisk(out).map((s) => [s.path, s.links, s.size])).toEqual([
      ["a", "a z", 2],
      ["z", "a z", 2],
    ]);
  });
});
