// What one opened container may cost, whatever its headers claim: a hostile file is
// refused with a clear error long before it can take the machine's memory or time.
// Generous for real images (a 1 GiB initrd, an ISO of 100,000 files).

export interface ReadLimits {
  /** Entries listed from one container. */
  entries: number;
  /** Bytes produced by decompressing one container (gzip). */
  bytes: number;
}

export const DEFAULT_LIMITS: ReadLimits = { entries: 1_000_000, bytes: 4 * 1024 ** 3 };
