// Output names and the small text files of a remaster.
import { stringify } from "yaml";

/** Razor's name for razor-microkernel, otherwise <name>-<flavour>-<version>.iso. */
export function isoFileName(name: string, flavour: string, version: string): string {
  return name === "razor-microkernel" ? `rz_mk_${flavour}-image.${version}.iso` : `${name}-${flavour}-${version}.iso`;
}

export const mkVersionYaml = (version: string): string => stringify({ mk_version: version });

export interface IsoMetadata {
  iso_version: string;
  kernel: { path: string; sha256: string };
  initrd: { path: string; sha256: string }[];
  /** Only when SOURCE_DATE_EPOCH gives one: never the clock. */
  build_time?: string;
}

export const isoMetadataYaml = (m: IsoMetadata): string => `# written by mkbundle rebuild-iso\n${stringify(m)}`;

export function ipxeScript(kernel: string, initrds: readonly string[], append: readonly string[]): string {
  const initrdArgs = initrds.map((i) => `initrd=${i}`).join(" ");
  return ["#!ipxe", `kernel ${kernel} ${[...append, initrdArgs].filter(Boolean).join(" ")}`, ...initrds.map((i) => `initrd ${i}`), "boot", ""].join("\n");
}
