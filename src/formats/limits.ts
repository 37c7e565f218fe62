// What reading a container may cost, whatever its headers claim: a hostile file is refused
// with a clear error long before it can take the machine's memory or time, and a reader
// never holds the thread so long that Ctrl-C or SIGTERM waits. Generous for real images
// (a 1 GiB initrd, an ISO of 100,000 files); the configuration sets them
// (MKBUNDLE_MAX_ENTRIES, MKBUNDLE_MAX_BYTES, MKBUNDLE_MAX_METADATA) and every reader is
// handed them.
import { FormatError } from "../errors.js";

export interface ReadLimits {
  /** Entries listed from one container. */
  entries: number;
  /** Bytes one container's files may hold, and one gzip stream may expand to. */
  bytes: number;
  /**
   * Structure bytes (directory records, FAT chains, squashfs metadata) one reading may
   * visit, counted at every visit: directories that overlap or share a tail cost each time.
   */
  metadata: number;
  /** The budget shared by the readers of one operation (`ls` through nested layers); one per reader when absent. */
  budget?: ReadBudget;
}

/** What one operation has spent, and the way back to the event loop. */
export interface ReadBudget {
  /** Counts `bytes` of structure read for `what`; past the limit, a FormatError for `format`. */
  visit(format: string, bytes: number, what: string): void;
  /** Lets signals and timers run when the reader has held the thread for a while. */
  pause(): Promise<void> | undefined;
}

/** How long a reader may run before it lets signals and timers in. */
const SLICE_MS = 20;

function readBudget(limits: Pick<ReadLimits, "metadata">): ReadBudget {
  let visited = 0;
  let since = performance.now();
  return {
    visit(format, bytes, what) {
      visited += bytes;
      if (visited > limits.metadata)
        throw new FormatError(
          format,
          `${what}: reading its structure visits more than ${limits.metadata} bytes (directories or chains used over and over; MKBUNDLE_MAX_METADATA)`,
        );
    },
    pause() {
      const now = performance.now();
      if (now - since < SLICE_MS) return undefined;
      return new Promise<void>((resolve) =>
        setImmediate(() => {
          since = performance.now();
          resolve();
        }),
      );
    },
  };
}

/** The operation's budget, or a fresh one for this reader. */
export const budgetOf = (limits: ReadLimits): ReadBudget => limits.budget ?? readBudget(limits);

/** The limits with one budget that every reader given them will share. */
export const sharedBudget = (limits: ReadLimits): ReadLimits => ({ ...limits, budget: readBudget(limits) });

/** What a reader may cost when nothing says otherwise (the configuration's defaults). */
export const DEFAULT_LIMITS: ReadLimits = Object.freeze({
  entries: 1_000_000,
  bytes: 4 * 1024 ** 3,
  metadata: 256 * 1024 ** 2,
});
