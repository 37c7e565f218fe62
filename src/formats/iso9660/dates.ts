// ECMA-119 dates: 7-byte directory record dates and 17-byte volume descriptor dates.

/** 7 bytes: years since 1900, month, day, hour, minute, second, GMT offset in 15-minute steps. */
export function encodeShortDate(epoch: number): Buffer {
  const d = new Date(epoch * 1000);
  return Buffer.from([
    d.getUTCFullYear() - 1900,
    d.getUTCMonth() + 1,
    d.getUTCDate(),
    d.getUTCHours(),
    d.getUTCMinutes(),
    d.getUTCSeconds(),
    0,
  ]);
}

export function decodeShortDate(b: Buffer, at = 0): number {
  if (b.length < at + 7 || b[at + 1] === 0) return 0;
  const offset = (b.readInt8(at + 6) * 15 * 60) | 0;
  return Date.UTC(1900 + b[at]!, b[at + 1]! - 1, b[at + 2], b[at + 3], b[at + 4], b[at + 5]) / 1000 - offset;
}

/** 17 bytes: "YYYYMMDDHHMMSScc" as digits and a GMT offset byte. */
export function encodeLongDate(epoch: number): Buffer {
  const d = new Date(epoch * 1000);
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  const text = `${p(d.getUTCFullYear(), 4)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}00`;
  return Buffer.concat([Buffer.from(text, "latin1"), Buffer.from([0])]);
}

/** An unset long date: sixteen '0' digits and offset 0. */
export const UNSET_LONG_DATE = Buffer.concat([Buffer.from("0".repeat(16), "latin1"), Buffer.from([0])]);

export function decodeLongDate(b: Buffer, at = 0): number | undefined {
  const text = b.toString("latin1", at, at + 16);
  if (!/^\d{16}$/.test(text) || text === "0".repeat(16)) return undefined;
  const n = (s: number, l: number) => Number(text.slice(s, s + l));
  return Date.UTC(n(0, 4), n(4, 2) - 1, n(6, 2), n(8, 2), n(10, 2), n(12, 2)) / 1000 - b.readInt8(at + 16) * 15 * 60;
}
