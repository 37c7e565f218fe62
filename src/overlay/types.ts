import type { Lock } from "../lock/lock-file.js";
import type { ResolvedManifest } from "../manifest/types.js";
import type { Entry } from "../tree/entry.js";
import type { FileTree } from "../tree/file-tree.js";

export interface OverlayInput {
  manifest: ResolvedManifest;
  lock: Lock;
  /** files[].source and password.file are relative to it. */
  manifestDir: string;
  /** Bytes of a pinned download, by sha256 (from the store). */
  blob(sha256: string): Buffer;
  /** The base initrd's files: /etc/shadow and friends are edited copies of these. */
  base: FileTree;
  /** Where password.env and MK_BUNDLE_TC_PASSWD are read from. */
  env: Readonly<Record<string, string | undefined>>;
  /** Every file time in the overlay. */
  epoch: number;
  warn(message: string): void;
}

/** Problems that stop a build: all of them, at once (exit 1). */
export class BuildError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join("\n"));
  }
}

export const file = (path: string, data: Buffer, mtime: number, mode = 0o644, uid = 0, gid = 0): Entry => ({ path, type: "file", mode, uid, gid, mtime, size: data.length, data });
