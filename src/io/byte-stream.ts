// Pulls exact byte counts out of a chunked stream, holding no more than it must.
import { FormatError } from "../errors.js";

export class ByteStream {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private done = false;
  private readonly it: AsyncIterator<Buffer | Uint8Array | string>;
  /** Bytes consumed so far: the offset of the next byte, for error messages. */
  position = 0;

  constructor(
    source: AsyncIterable<Buffer | Uint8Array | string>,
    private readonly format: string,
  ) {
    this.it = source[Symbol.asyncIterator]();
  }

  /** Buffers at least n bytes; false when the stream ends first. */
  async ensure(n: number): Promise<boolean> {
    while (this.buffered < n && !this.done) {
      const r = await this.it.next();
      if (r.done) this.done = true;
      else {
        const b = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value as Uint8Array);
        if (b.length) {
          this.chunks.push(b);
          this.buffered += b.length;
        }
      }
    }
    return this.buffered >= n;
  }

  /** Exactly n bytes, or a FormatError naming what was being read. */
  async take(n: number, what: string): Promise<Buffer> {
    if (!(await this.ensure(n)))
      throw new FormatError(
        this.format,
        `truncated: ${what} needs ${n} bytes at offset ${this.position}, only ${this.buffered} left`,
      );
    return this.consume(n);
  }

  /** The next buffered byte without consuming it, or undefined at the end. */
  async peekByte(): Promise<number | undefined> {
    return (await this.ensure(1)) ? this.chunks[0]![0] : undefined;
  }

  private consume(n: number): Buffer {
    this.position += n;
    this.buffered -= n;
    const first = this.chunks[0];
    if (first && first.length >= n) {
      const out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const c = this.chunks[0]!;
      const k = Math.min(c.length, n - filled);
      c.copy(out, filled, 0, k);
      filled += k;
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    return out;
  }
}
