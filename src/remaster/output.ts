// What an output format is: a function from a prepared remaster to the files it wrote.
import type { PreparedRemaster } from "./prepare.js";

export interface OutputFile {
  path: string;
  sha256: string;
  size: number;
  /** False when an identical file was already there: an unchanged build rewrites nothing. */
  written: boolean;
}

/**
 * Writes a file (atomically, only when its bytes changed), returning what was written. It is
 * done with each chunk before it asks for the next, so producers may reuse one buffer.
 */
export type WriteOutput = (path: string, data: AsyncIterable<Buffer> | Iterable<Buffer>) => Promise<OutputFile>;

export type OutputMaker = (p: PreparedRemaster, write: WriteOutput) => Promise<OutputFile[]>;
