// --cache-registry: the download store read through and written back to an OCI registry
// repository, blobs named by their sha256. Before a pinned file is fetched from the mirror
// the registry is asked for it; after a verified download it is uploaded. N runners then
// fetch each file from the mirror once. The registry is a cache, never a dependency: its
// first failure is one warning, and the build goes on with the mirror alone.
import { rmSync } from "node:fs";
import { MkError } from "../errors.js";
import { registryClient, type ClientOptions } from "../registry/client.js";
import { formatReference, type Reference } from "../registry/reference.js";

export interface BlobCache {
  /** The blob into `file` (a new file) when the cache has it and it verifies; false otherwise. */
  get(sha256: string, file: string, maxBytes: number): Promise<boolean>;
  /** Uploads a verified blob unless the cache has it. */
  put(sha256: string, path: string, size: number): Promise<void>;
  /** Repository, for messages. */
  name: string;
}

export function registryBlobCache(ref: Reference, o: ClientOptions, warn: (m: string) => void): BlobCache {
  const client = registryClient(ref, o);
  const name = formatReference(ref);
  let broken = false;
  const giveUp = (e: unknown): void => {
    if (!(e instanceof MkError)) throw e;
    if (!broken)
      warn(`--cache-registry ${name}: ${e.diagnostics[0]?.message ?? e.message}; downloading from the mirror instead`);
    broken = true;
  };
  return {
    name,
    async get(sha256, file, maxBytes) {
      if (broken) return false;
      try {
        await client.fetchBlob(`sha256:${sha256}`, file, maxBytes);
        return true;
      } catch (e) {
        rmSync(file, { force: true });
        if (e instanceof MkError && e.code === "lookup") return false; // not shared yet
        if (e instanceof MkError && e.code === "verify") {
          warn(`--cache-registry ${name}: ${e.diagnostics[0]?.message}; fetching it from the mirror`);
          return false;
        }
        giveUp(e);
        return false;
      }
    },
    async put(sha256, path, size) {
      if (broken) return;
      try {
        await client.pushBlob(`sha256:${sha256}`, path, size);
      } catch (e) {
        giveUp(e);
      }
    },
  };
}
