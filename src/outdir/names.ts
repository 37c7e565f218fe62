// The names of what mkbundle writes in --out. Every flavour has its own, so that building
// dev after prod never overwrites prod's files.
import { RAZOR_NAME } from "../manifest/razor-flags.js";

/** Razor's name for razor-microkernel, otherwise <name>-<flavour>-<version>.iso. */
export function isoFileName(name: string, flavour: string, version: string): string {
  return name === RAZOR_NAME ? `rz_mk_${flavour}-image.${version}.iso` : `${name}-${flavour}-${version}.iso`;
}

/** The SBOM beside the ISO, named like it: <iso name less .iso>.spdx.json. */
export const sbomFileName = (name: string, flavour: string, version: string): string =>
  isoFileName(name, flavour, version).replace(/\.iso$/, ".spdx.json");

/** persist: the data partition, <name>-<flavour>-<version>-data.img. */
export const dataFileName = (name: string, flavour: string, version: string): string =>
  `${name}-${flavour}-${version}-data.img`;

/** persist: the hybrid ISO and the data partition in one disk image, <name>-<flavour>-<version>.img. */
export const diskFileName = (name: string, flavour: string, version: string): string =>
  `${name}-${flavour}-${version}.img`;

/** pxe/<name>-<flavour>-<version>: the kernel, the initrd(s) and boot.ipxe. */
export const pxeDirName = (name: string, flavour: string, version: string): string =>
  `pxe/${name}-${flavour}-${version}`;

export const SUMS_FILE = "SHA256SUMS";

/** What a bundle's file name looks like: <name>-bundle-<flavour>.tar.gz. */
export const BUNDLE_FILE = /^[a-z0-9][a-z0-9-]*-bundle-(dev|prod|debug)\.tar\.gz$/;

/** The bundle a manifest's bundle stage writes in --out. */
export const bundleFileName = (m: { name: string; flavour: string }): string => `${m.name}-bundle-${m.flavour}.tar.gz`;
