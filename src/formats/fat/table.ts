// The file allocation table itself: reading and writing 12-, 16- and 28-bit cluster entries.
import type { FatType } from "./geometry.js";

/** End-of-chain marker as written; readers accept anything at or above the type's EOC range. */
export const endOfChain = (t: FatType): number => (t === 12 ? 0xfff : t === 16 ? 0xffff : 0x0fffffff);
export const isEndOfChain = (t: FatType, v: number): boolean =>
  v >= (t === 12 ? 0xff8 : t === 16 ? 0xfff8 : 0x0ffffff8);
export const isBad = (t: FatType, v: number): boolean => v === (t === 12 ? 0xff7 : t === 16 ? 0xfff7 : 0x0ffffff7);

export function setEntry(fat: Buffer, t: FatType, n: number, v: number): void {
  if (t === 16) fat.writeUInt16LE(v, n * 2);
  else if (t === 32) fat.writeUInt32LE(v & 0x0fffffff, n * 4);
  else {
    const o = Math.floor((n * 3) / 2);
    if (n % 2 === 0) {
      fat[o] = v & 0xff;
      fat[o + 1] = (fat[o + 1]! & 0xf0) | ((v >> 8) & 0x0f);
    } else {
      fat[o] = (fat[o]! & 0x0f) | ((v << 4) & 0xf0);
      fat[o + 1] = (v >> 4) & 0xff;
    }
  }
}

export function getEntry(fat: Buffer, t: FatType, n: number): number {
  if (t === 16) return fat.readUInt16LE(n * 2);
  if (t === 32) return fat.readUInt32LE(n * 4) & 0x0fffffff;
  const o = Math.floor((n * 3) / 2);
  const v = fat[o]! | (fat[o + 1]! << 8);
  return n % 2 === 0 ? v & 0xfff : v >> 4;
}
