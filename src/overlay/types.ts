import { rangeStream, type ByteSource } from "../io/byte-source.js";
import type { Lock } from "../lock/lock-file.js";
import type { Env } from "../manifest/epoch.js";
import type { Locator } from "../manifest/schema.js";
import type { ResolvedManifest } from "../manifest/types.js";
import type { Log } from "../log.js";
import { fileEntry, type Entry } from "../tree/entry.js";
import type { FileTree } from "../tree/file-tree.js";

export interface OverlayInput {
  manifest: ResolvedManifest;
  lock: Lock;
  /** files[].source and password.file are relative to it. */
  manifestDir: string;
  /** Positions in the manifest, for messages that name a line. */
  locate?: Locator;
  /** Bytes of a pinned download, by sha256 (from the store). */
  blob(sha256: string): ByteSource;
  /** The base initrd's files: /etc/shadow and friends are edited copies of these. */
  base: FileTree;
  /** Where password.env and MK_BUNDLE_TC_PASSWD are read from. */
  env: Env;
  log: Log;
  /** tc's hash in the previous build's /etc/shadow: kept when the password still verifies against it. */
  previousTcHash?: string;
  /** Build even when a service's program is not in the image (--allow-missing-commands). */
  allowMissingCommands?: boolean;
}

/** A file whose bytes stay where they are (a blob in the store) until the overlay is written. */
export const fileFrom = (path: string, src: ByteSource, mtime: number, mode = 0o644, uid = 0, gid = 0): Entry => ({
  ...file(path, Buffer.alloc(0), mtime, mode, uid, gid),
  size: src.size,
  data: () => rangeStream(src, [{ offset: 0, length: src.size }]),
  source: () => src,
});

export const file = fileEntry;
