// Waiting for a stream to take more: on 'drain', or when it closes or fails (a destroyed
// stream never drains, and a promise nobody settles would end the process with exit 0).
import type { EventEmitter } from "node:events";

export function drained(stream: EventEmitter & { destroyed?: boolean }): Promise<void> {
  if (stream.destroyed) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const done = () => {
      for (const event of ["drain", "close", "error"]) stream.off(event, done);
      resolve();
    };
    for (const event of ["drain", "close", "error"]) stream.once(event, done);
  });
}
