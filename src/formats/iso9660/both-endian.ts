// ECMA-119 stores most numbers twice: little-endian then big-endian.
export function writeBoth32(b: Buffer, v: number, at: number): void {
  b.writeUInt32LE(v, at);
  b.writeUInt32BE(v, at + 4);
}

export function writeBoth16(b: Buffer, v: number, at: number): void {
  b.writeUInt16LE(v, at);
  b.writeUInt16BE(v, at + 2);
}

/** The little-endian half; some writers get the big-endian half wrong, so it is not trusted. */
export const readBoth32 = (b: Buffer, at: number): number => b.readUInt32LE(at);
export const readBoth16 = (b: Buffer, at: number): number => b.readUInt16LE(at);
