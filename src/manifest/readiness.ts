// What `mkbundle validate` adds to the schema and semantic checks: the failures a build
// would meet that need no network. They are warnings (a version may come on the command
// line, a variable may be set in CI), errors under --strict.
import type { Diagnostic } from "../errors.js";
import { diagnosticAt, type Locator } from "./schema.js";
import type { Manifest } from "./types.js";

export function buildReadiness(
  m: Manifest,
  ctx: {
    locate: Locator;
    /** Whether an environment variable is set (to a non-empty value). */ isSet(name: string): boolean;
  },
): Diagnostic[] {
  const out: Diagnostic[] = [];
  const warn = (path: (string | number)[], message: string, hint: string, at: "key" | "value" = "value") =>
    out.push(diagnosticAt(ctx.locate, "warning", path, message, hint, at));
  if (m.version === undefined)
    warn(
      [],
      "no version: mkbundle build and rebuild-iso need one",
      "set version:, or pass it: mkbundle build FILE 1.0.0",
    );
  // (A missing password.file is a semantic warning already.)
  const pw = m.password;
  if (pw && m.flavour !== "prod" && "env" in pw && !ctx.isSet(pw.env))
    warn(
      ["password", "env"],
      `names ${pw.env}, which is not set here: a build fails without it`,
      `export ${pw.env} before building; its value never enters the manifest or the image's files`,
    );
  // The kernel's EFI stub is checked when the base is at hand; a 32-bit series never has one.
  if (m.boot?.uefi && (m.base?.arch ?? "x86") === "x86")
    warn(
      ["boot", "uefi"],
      "boot.uefi needs an x86_64 kernel with an EFI stub; this base is x86 (32-bit), so a build stops",
      "set base.arch: x86_64 (CorePure64), or remove boot.uefi",
      "key",
    );
  return out;
}
