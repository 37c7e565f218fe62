// Every codec through the same table: what it writes reads back as it was written (each
// format keeping what it can hold), the same entries in any order give the same bytes, the
// registry detects what it wrote, and a hostile copy of each (truncated, bytes flipped,
// sizes claimed huge) is read to the end or refused with a FormatError, never another
// exception. Formats get their independent-tool checks in their own test files.
import { createHash, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { FormatError, MkError } from "../../src/errors.js";
import type { Codec, WrittenImage } from "../../src/formats/codec.js";
import { CODECS, detectContainer } from "../../src/formats/codecs.js";
import { cpio } from "../../src/formats/cpio/codec.js";
import { ext2 } from "../../src/formats/ext2/codec.js";
import { fat } from "../../src/formats/fat/codec.js";
import { iso9660 } from "../../src/formats/iso9660/codec.js";
import { squashfs } from "../../src/formats/squashfs/codec.js";
import { DEFAULT_LIMITS } from "../../src/formats/limits.js";
import { tar } from "../../src/formats/tar/codec.js";
import { bufferSource } from "../../src/io/byte-source.js";
import { collect, fileEntry, readContent, type Entry, type EntryType } from "../../src/tree/entry.js";

const EPOCH = 1_700_000_000;
const dir = (path: string, mode = 0o755): Entry => ({ path, type: "dir", mode, uid: 0, gid: 0, mtime: EPOCH, size: 0 });
const big = randomBytes(3 * 1024 * 1024 + 17);

/** One of every kind of entry; each codec keeps the kinds it can hold. */
const ALL: Entry[] = [
  dir("etc"),
  dir("srv", 0o750),
  fileEntry("etc/motd", Buffer.from("hello\n"), EPOCH, 0o644, 1001, 50),
  fileEntry("etc/empty", Buffer.alloc(0), EPOCH - 100),
  fileEntry("srv/big.bin", big, EPOCH, 0o600),
  { path: "etc/link", type: "symlink", mode: 0o777, uid: 0, gid: 0, mtime: EPOCH, size: 0, linkTarget: "motd" },
  {
    path: "etc/hard",
    type: "hardlink",
    mode: 0o644,
    uid: 1001,
    gid: 50,
    mtime: EPOCH,
    size: 0,
    linkTarget: "etc/motd",
  },
  { path: "dev-null", type: "char", mode: 0o666, uid: 0, gid: 0, mtime: EPOCH, size: 0, rdevMajor: 1, rdevMinor: 3 },
  { path: "loop0", type: "block", mode: 0o660, uid: 0, gid: 6, mtime: EPOCH, size: 0, rdevMajor: 7, rdevMinor: 0 },
  { path: "fifo", type: "fifo", mode: 0o644, uid: 0, gid: 0, mtime: EPOCH, size: 0 },
];

interface Case {
  codec: Pick<Codec, "name" | "detect" | "read"> & { write(entries: Iterable<Entry>, o: never): WrittenImage };
  options: object;
  /** Entry kinds the format holds. */
  kinds: EntryType[];
  /** What the format keeps of each entry (FAT keeps names, sizes, bytes and 2-second times). */
  keeps: { owners: boolean; modes: boolean; times: (t: number) => number };
  /** Paths the format makes itself (ext2's lost+found). */
  adds?: string[];
}

const CASES: Case[] = [
  {
    codec: cpio,
    options: { epoch: EPOCH },
    kinds: ["dir", "file", "symlink", "hardlink", "char", "block", "fifo"],
    keeps: { owners: true, modes: true, times: (t) => t },
  },
  {
    codec: tar,
    options: { epoch: EPOCH },
    kinds: ["dir", "file", "symlink", "hardlink", "char", "block", "fifo"],
    keeps: { owners: true, modes: true, times: (t) => t },
  },
  {
    codec: iso9660,
    options: { epoch: EPOCH },
    kinds: ["dir", "file", "symlink", "hardlink", "char", "block", "fifo"],
    keeps: { owners: true, modes: true, times: (t) => t },
  },
  {
    // A hard link is a second name for one inode: it reads back as a file with the same bytes.
    codec: squashfs,
    options: { epoch: EPOCH },
    kinds: ["dir", "file", "symlink", "char", "block", "fifo"],
    keeps: { owners: true, modes: true, times: (t) => t },
  },
  {
    codec: fat,
    options: { epoch: EPOCH, serial: 7, label: "TEST" },
    kinds: ["dir", "file"],
    keeps: { owners: false, modes: false, times: (t) => t - (t % 2) },
  },
  {
    codec: ext2,
    options: { epoch: EPOCH, size: 8 << 20, blockSize: 1024 },
    kinds: ["dir", "file", "symlink", "hardlink", "char", "block", "fifo"],
    keeps: { owners: true, modes: true, times: (t) => t },
    adds: ["lost+found"],
  },
];

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

async function bytesOf(image: WrittenImage): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of image.stream()) out.push(Buffer.from(c));
  return Buffer.concat(out);
}

/** What a reader gives back, hard links resolved to their file's bytes, in path order. */
async function summary(entries: readonly Entry[], keeps: Case["keeps"]) {
  const byPath = new Map(entries.map((e) => [e.path, e]));
  return entries
    .filter((e) => e.path !== "")
    .map((e) => {
      const file = e.type === "hardlink" ? byPath.get(e.linkTarget ?? "")! : e;
      return {
        path: e.path,
        // A hard link may come back as the file and the file as the link: the group is what counts.
        type: e.type === "hardlink" ? "file" : e.type,
        ...(keeps.modes ? { mode: e.mode } : {}),
        ...(keeps.owners ? { owner: `${e.uid}:${e.gid}` } : {}),
        mtime: keeps.times(e.mtime),
        ...(file.type === "file" ? { sha: sha(readContent(file)) } : {}),
        ...(e.type === "symlink" ? { target: e.linkTarget } : {}),
        ...(e.type === "char" || e.type === "block" ? { dev: `${e.rdevMajor},${e.rdevMinor}` } : {}),
      };
    })
    .sort((a, b) => a.path.localeCompare(b.path));
}

describe.each(CASES)("$codec.name", ({ codec, options, kinds, keeps, adds = [] }) => {
  const entries = ALL.filter((e) => kinds.includes(e.type));
  const write = (list: readonly Entry[]) => bytesOf(codec.write(list, options as never));

  it("reads back what it wrote, and the registry recognises it", async () => {
    const image = await write(entries);
    expect(detectContainer(image.subarray(0, 32774))).toBe(codec.name);
    const back = (await collect(codec.read(bufferSource(image), DEFAULT_LIMITS))).filter((e) => !adds.includes(e.path));
    expect(await summary(back, keeps)).toEqual(await summary(entries, keeps));
  });

  it("writes the same bytes whatever the entries' order, and states its size when it knows it", async () => {
    const a = codec.write(entries, options as never);
    const [x, y] = [await bytesOf(a), await write([...entries].reverse())];
    expect(x.equals(y)).toBe(true);
    if (a.size !== undefined) expect(a.size).toBe(x.length);
  });

  it("clamps times to the epoch", async () => {
    const later = entries.map((e) => ({ ...e, mtime: EPOCH + 1000 }));
    const back = await collect(codec.read(bufferSource(await write(later)), DEFAULT_LIMITS));
    expect(back.filter((e) => e.path !== "" && e.mtime > EPOCH)).toEqual([]);
  });

  it("answers hostile copies with a FormatError or a clean read, never another exception", async () => {
    const image = await write(entries);
    const variants: [string, Buffer][] = [];
    for (const cut of [0, 1, 100, 512, 2048, 32768, 32774, image.length >> 1, image.length - 1])
      if (cut < image.length) variants.push([`truncated at ${cut}`, image.subarray(0, cut)]);
    for (let i = 1; i < 40; i++) {
      const at = Math.floor((image.length * i) / 40);
      for (const value of [0x00, 0xff, 0x7f]) {
        const b = Buffer.from(image);
        b[at] = value;
        variants.push([`byte ${at} = ${value}`, b]);
      }
      const b = Buffer.from(image);
      if (at + 4 <= b.length) b.writeUInt32LE(0xffffffff, at);
      variants.push([`u32 at ${at} = 0xffffffff`, b]);
    }
    for (const [what, b] of variants) {
      try {
        for await (const e of codec.read(bufferSource(b), {
          entries: 10_000,
          bytes: 64 * 1024 * 1024,
          metadata: 64 * 1024 * 1024,
        }))
          if (e.type === "file" && e.size <= 8 * 1024 * 1024) readContent(e);
      } catch (e) {
        if (!(e instanceof FormatError || e instanceof MkError)) throw new Error(`${what}: ${String(e)}`, { cause: e });
      }
    }
  });
});

it("every codec in the registry is in the table", () => {
  expect(CODECS.map((c) => c.name)).toEqual(expect.arrayContaining(CASES.map((c) => c.codec.name)));
  expect(CASES.length).toBe(CODECS.length);
});
