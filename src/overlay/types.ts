import type { ByteSource } from "../io/byte-source.js";
import type { Lock } from "../lock/lock-file.js";
import type { Env } from "../manifest/epoch.js";
import type { Locator } from "../manifest/schema.js";
import type { ResolvedManifest } from "../manifest/types.js";
import type { Log } from "../log.js";
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
