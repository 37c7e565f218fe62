// Where a decompressor's output goes: memory up to 8 MiB, then a temporary file read in place.
// The reader gets a ByteSource either way; the file is written once, never held whole.
import { closeSync, openSync, writeSync } from "node:fs";
import { bufferSource, fileSource, type ByteSource } from "./byte-source.js";
import { tempPath } from "./temp.js";

const IN_MEMORY = 8 * 1024 * 1024;

export interface Spill {
  write(chunk: Buffer): void;
  /** The bytes written, as a source (call once, after the last write). */
  source(): ByteSource;
  /** Closes the file, if there is one (also after a failure). */
  close(): void;
}

export function spill(label: string): Spill {
  const held: Buffer[] = [];
  let heldBytes = 0;
  let file: { path: string; fd: number } | undefined;
  return {
    write(c) {
      if (!file && heldBytes + c.length <= IN_MEMORY) {
        held.push(c);
        heldBytes += c.length;
        return;
      }
      if (!file) {
        const path = tempPath(`${label}.out`);
        file = { path, fd: openSync(path, "wx") };
        for (const h of held.splice(0)) writeSync(file.fd, h);
      }
      for (let off = 0; off < c.length;) off += writeSync(file.fd, c, off);
    },
    source() {
      this.close();
      return file ? fileSource(file.path) : bufferSource(held.length === 1 ? held[0]! : Buffer.concat(held));
    },
    close() {
      if (file && file.fd >= 0) {
        closeSync(file.fd);
        file.fd = -1;
      }
    },
  };
}
