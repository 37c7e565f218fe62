// Strict UTF-8: our scan finds exactly where the platform's fatal decoder fails.
import { describe, expect, it } from "vitest";
import { firstInvalidUtf8 } from "../../src/manifest/text-file.js";

const fatal = new TextDecoder("utf-8", { fatal: true });
const decodes = (b: Buffer) => {
  try {
    fatal.decode(b);
    return true;
  } catch {
    return false;
  }
};

describe("firstInvalidUtf8", () => {
  it("agrees with TextDecoder on valid text and on the edge cases of RFC 3629", () => {
    for (const s of ["", "plain", "café", "日本語", "𝄞 clef", "\u{10ffff}"])
      expect(firstInvalidUtf8(Buffer.from(s))).toBe(Buffer.byteLength(s));
    const bad: [number[], number][] = [
      [[0x61, 0xe9], 1], // latin-1 é
      [[0xc0, 0x80], 0], // overlong NUL
      [[0xe0, 0x80, 0x80], 0], // overlong
      [[0xed, 0xa0, 0x80], 0], // a UTF-16 surrogate
      [[0xf4, 0x90, 0x80, 0x80], 0], // above U+10FFFF
      [[0x61, 0x62, 0xe6, 0x97], 2], // truncated
      [[0x80], 0], // a lone continuation byte
    ];
    for (const [bytes, at] of bad) {
      expect(firstInvalidUtf8(Buffer.from(bytes)), bytes.join(",")).toBe(at);
      expect(decodes(Buffer.from(bytes))).toBe(false);
    }
  });

  it("agrees with TextDecoder on 20,000 random byte strings: valid exactly when it scans to the end, and the prefix before the offset decodes", () => {
    let x = 12345;
    const rnd = () => ((x = (x * 1103515245 + 12345) & 0x7fffffff), x);
    for (let i = 0; i < 20_000; i++) {
      const b = Buffer.from(
        Array.from({ length: rnd() % 12 }, () => (rnd() % 3 === 0 ? rnd() % 0x80 : 0x80 + (rnd() % 0x80))),
      );
      const at = firstInvalidUtf8(b);
      expect(at === b.length, b.toString("hex")).toBe(decodes(b));
      expect(decodes(b.subarray(0, at)), b.toString("hex")).toBe(true);
    }
  });
});
