// What each flavour means, decided here and only here: the rest of mkbundle asks these
// booleans, never the flavour's name.
import { extensionName, type Flavour } from "./types.js";

export interface FlavourPolicy {
  /** The builtin extensions the flavour leaves out, given flavours.prod.exclude. */
  dropsBuiltin: (exclude: readonly string[]) => string[];
  /** tc cannot log in with a password (its shadow field is locked). */
  tcLocked: boolean;
  /** tty1 logs tc in without a password (Tiny Core's autologin getty). */
  consoleAutologin: boolean;
  /** No remote login, no usable password, no shell on a console: the prod audit runs on the image. */
  audited: boolean;
  /** The kernel command line may be edited at systemd-boot's menu. */
  bootLineEditable: boolean;
}

const PROD: FlavourPolicy = {
  // Razor's rule: a prod image has no openssh.
  dropsBuiltin: (exclude) => ["openssh", ...exclude.map(extensionName)],
  tcLocked: true,
  consoleAutologin: false,
  audited: true,
  bootLineEditable: false,
};
const DEV: FlavourPolicy = {
  dropsBuiltin: () => [],
  tcLocked: false,
  consoleAutologin: false,
  audited: false,
  bootLineEditable: true,
};
const DEBUG: FlavourPolicy = { ...DEV, consoleAutologin: true };

export const flavourPolicy = (f: Flavour): FlavourPolicy => ({ prod: PROD, dev: DEV, debug: DEBUG })[f];
