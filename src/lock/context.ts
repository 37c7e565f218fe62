// What resolving needs: where to fetch from, the verified store, and a log for warnings.
import type { ReadLimits } from "../formats/limits.js";
import type { Log } from "../log.js";
import type { FetchContext } from "../store/fetch.js";
import type { Location } from "../net/location.js";

export interface ResolveContext {
  fetch: FetchContext;
  mirror: Location;
  /** Relative URLs and paths in the manifest are taken from here. */
  baseDir: string;
  log: Log;
  /** What one opened container (a base ISO, an initrd, a .tcz) may cost. */
  limits: ReadLimits;
  /** Where the manifest lists an extension (extensions.builtin, extensions.mirror or files[].extract), for messages. */
  whereListed?: (list: string, name: string) => { file: string; line: number; column: number } | undefined;
  /** Where a key of the manifest is written (base.sha256), for messages; undefined for Razor's lists. */
  whereKey?: (path: readonly (string | number)[]) => { file: string; line: number; column: number } | undefined;
}
