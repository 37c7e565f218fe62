// Buffers of one size, taken and given back, shared by every user in the process: a long
// remaster runs a gzip stream, a cpio writer and a file writer per layer (hundreds of them
// for a 200 MiB overlay), and fresh buffers for each left hundreds of MiB of garbage that V8
// freed late. A buffer is given back only when nothing refers to it any more.
const pools = new Map<number, Buffer[]>();
/** Free buffers kept per size: enough for the gzip window of 8 threads. */
const KEEP = 48;

export function takeBuffer(size: number): Buffer {
  return pools.get(size)?.pop() ?? Buffer.allocUnsafe(size);
}

export function giveBuffer(b: Buffer): void {
  const free = pools.get(b.length) ?? [];
  pools.set(b.length, free);
  if (free.length < KEEP && !free.includes(b)) free.push(b);
}
