// Malformed and hostile ISO images: a clear FormatError in bounded time, never a hang.
import { describe, expect, it } from "vitest";
import { bufferSource } from "../../src/io/byte-source.js";
import { decodeRecord } from "../../src/formats/iso9660/directory-record.js";
import { readIso } from "../../src/formats/iso9660/reader.js";
import { writeIso } from "../../src/formats/iso9660/writer.js";
import { readContent, type Entry } from "../../src/tree/entry.js";
import { FormatError } from "../../src/errors.js";

const file = (path: string, text: string): Entry => ({
  path,
  type: "file",
  mode: 0o644,
  uid: 0,
  gid: 0,
  mtime: 1700000000,
  size: Buffer.byteLength(text),
  content: () => bufferSource(Buffer.from(text)),
});
const dirE = (path: string): Entry => ({ path, type: "dir", mode: 0o755, uid: 0, gid: 0, mtime: 1700000000, size: 0 });

async function image(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of writeIso(
    [dirE("a"), dirE("a/b"), file("a/b/f.txt", "hello\n"), file("abc", "abc\n"), file("x".repeat(180), "long name\n")],
    { epoch: 1700000000 },
  ))
    chunks.push(c);
  return Buffer.concat(chunks);
}

async function readEverything(b: Buffer): Promise<void> {
  for (const e of (await readIso(bufferSource(b))).entries) readContent(e);
}

/** Records of the directory at `lba` (one sector), with their offsets. */
function records(b: Buffer, lba: number): { at: number; name: Buffer; lba: number }[] {
  const out: { at: number; name: Buffer; lba: number }[] = [];
  for (let at = lba * 2048; b[at]! > 0 && at < (lba + 1) * 2048; at += b[at]!) {
    const r = decodeRecord(b, at);
    out.push({ at, name: r.name, lba: r.lba });
  }
  return out;
}

const rootLba = (b: Buffer) => b.readUInt32LE(16 * 2048 + 156 + 2);

describe("hostile ISO images", () => {
  it("reads the valid image", async () => {
    const b = await image();
    expect((await readIso(bufferSource(b))).entries.map((e) => e.path)).toEqual([
      "",
      "a",
      "a/b",
      "a/b/f.txt",
      "abc",
      "x".repeat(180),
    ]);
  });

  it("reports truncation anywhere", async () => {
    const b = await image();
    for (let n = 0; n < b.length; n += 1024)
      await expect(readEverything(b.subarray(0, n)), `truncated at ${n}`).rejects.toBeInstanceOf(FormatError);
  });

  it("rejects a directory extent past the end and an absurd directory size", async () => {
    const b = Buffer.from(await image());
    const far = Buffer.from(b);
    far.writeUInt32LE(0x7fffffff, 16 * 2048 + 156 + 2);
    await expect(readEverything(far)).rejects.toThrow(/past the end/);
    const huge = Buffer.from(b);
    huge.writeUInt32LE(0xffffffff, 16 * 2048 + 156 + 10);
    await expect(readEverything(huge)).rejects.toThrow(/claims 4294967295 bytes/);
  });

  it("detects a directory that points at itself or its parent", async () => {
    const b = Buffer.from(await image());
    const a = records(b, rootLba(b)).find((r) => r.name.toString() === "A")!;
    const bRec = records(b, a.lba).find((r) => r.name.toString() === "B")!;
    b.writeUInt32LE(a.lba, bRec.at + 2); // a/b now lists a
    b.writeUInt32BE(a.lba, bRec.at + 6);
    await expect(readEverything(b)).rejects.toThrow(/directory 'a\/b' reuses the extent of another directory \(a loop/);
  });

  it("survives a continuation area that continues into itself", async () => {
    const b = Buffer.from(await image());
    const dot = decodeRecord(b, rootLba(b) * 2048);
    const ceAt = dot.systemUse.indexOf("CE");
    const ce = { lba: dot.systemUse.readUInt32LE(ceAt + 4), offset: dot.systemUse.readUInt32LE(ceAt + 12) };
    // Write, at the start of that area, a CE entry that points back at the area.
    const area = ce.lba * 2048 + ce.offset;
    b.write("CE", area, "latin1");
    b[area + 2] = 28;
    b[area + 3] = 1;
    for (const [v, o] of [
      [ce.lba, 4],
      [ce.offset, 12],
      [28, 20],
    ] as const) {
      b.writeUInt32LE(v, area + o);
      b.writeUInt32BE(v, area + o + 4);
    }
    const started = Date.now();
    await readEverything(b);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("rejects Rock Ridge names that are '..' or contain '/'", async () => {
    for (const evil of ["..", "a/b"]) {
      const b = Buffer.from(await image());
      const abc = records(b, rootLba(b)).find((r) => r.name.toString() === "ABC.;1")!;
      const rec = decodeRecord(b, abc.at);
      const at = abc.at + (rec.length - rec.systemUse.length) + rec.systemUse.indexOf("NM");
      if (evil === "..")
        b[at + 4] = 0x04; // NM's PARENT flag
      else b.write(evil, at + 5, "latin1"); // "abc" -> "a/b", same length
      await expect(readEverything(b), evil).rejects.toThrow(/invalid name/);
    }
  });
});
