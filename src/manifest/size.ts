// Sizes as a manifest writes them: bytes, or a number with KiB, MiB or GiB.
const UNITS: Record<string, number> = { "": 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 };

/** The bytes `spec` says, or undefined when it is not a size. */
export function sizeInBytes(spec: unknown): number | undefined {
  if (typeof spec !== "string" && typeof spec !== "number") return undefined;
  const m = /^([0-9]+)(KiB|MiB|GiB)?$/.exec(String(spec));
  return m ? Number(m[1]) * UNITS[m[2] ?? ""]! : undefined;
}
