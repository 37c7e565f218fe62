// What one opened container may cost, whatever its headers claim: a hostile file is
// refused with a clear error long before it can take the machine's memory or time.
// Generous for real images (a 1 GiB initrd, an ISO of 100,000 files); the configuration
// sets them (MKBUNDLE_MAX_ENTRIES, MKBUNDLE_MAX_BYTES) and every reader is handed them.

export interface ReadLimits {
  /** Entries listed from one container. */
  entries: number;
  /** Bytes one container's files may hold, and one gzip stream may expand to. */
  bytes: number;
}

/** What a reader may cost when nothing says otherwise (the configuration's maxEntries and maxBytes by default). */
export const DEFAULT_LIMITS: ReadLimits = Object.freeze({ entries: 1_000_000, bytes: 4 * 1024 ** 3 });
