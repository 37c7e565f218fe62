// What compiling an overlay needs: the resolved manifest, its lock's pins (with their bytes
// in the store), the base initrd's files, and tc's shadow field decided up front.
import type { ReadLimits } from "../formats/limits.js";
import type { ByteSource } from "../io/byte-source.js";
import type { Lock } from "../lock/lock-file.js";
import type { Locator } from "../manifest/schema.js";
import type { ResolvedManifest } from "../manifest/types.js";
import type { Log } from "../log.js";
import type { FileTree } from "../tree/file-tree.js";
import type { Providers } from "../tinycore/provides.js";
import type { TcField } from "./password.js";

export interface OverlayInput {
  manifest: ResolvedManifest;
  lock: Lock;
  /** files[].source are relative to it. */
  manifestDir: string;
  /** Positions in the manifest, for messages that name a line. */
  locate?: Locator;
  /** Bytes of a pinned download, by sha256 (from the store). */
  blob(sha256: string): ByteSource;
  /** The base initrd's files: /etc/shadow and friends are edited copies of these. */
  base: FileTree;
  /** tc's field in /etc/shadow, or why it cannot be had (overlay/password.ts). */
  tcField: TcField;
  log: Log;
  /** What one opened container (a .tcz) may cost. */
  limits: ReadLimits;
  /** Build even when a service's program is not in the image (--allow-missing-commands). */
  allowMissingCommands?: boolean;
  /** Skip the shared-library check (--no-lib-check). */
  skipLibCheck?: boolean;
  /** Which extensions ship a file with a name (the mirror's provides.db), for the library check's hints. */
  providers?: Providers;
}
