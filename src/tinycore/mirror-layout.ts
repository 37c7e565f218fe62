// Where things live on a Tiny Core mirror, relative to its root.

/** The files beside each NAME.tcz. */
type Sibling = ".md5.txt" | ".dep" | ".info" | ".list";

export const tczPath = (release: string, arch: string, name: string, suffix: "" | Sibling = ""): string =>
  `${release}/${arch}/tcz/${name}.tcz${suffix}`;

export const releasePath = (release: string, arch: string, file: string): string =>
  `${release}/${arch}/release/${file}`;

/** Tiny Core's netboot files: vmlinuz64, corepure64.gz, rootfs64.gz, modules64.gz. */
export const distributionFilePath = (release: string, arch: string, name = ""): string =>
  releasePath(release, arch, `distribution_files/${name}`);

/** An index beside the extensions: info.lst (every name), provides.db.gz (which extension ships which file). */
export const tczIndexPath = (release: string, arch: string, file: string): string => `${release}/${arch}/tcz/${file}`;

/** The extension a mirror URL names (…/tcz/NAME.tcz), if it names one. */
export function extensionOfUrl(url: string): string | undefined {
  const m = /\/tcz\/([^/]+)\.tcz$/.exec(url);
  return m ? decodeURIComponent(m[1]!) : undefined;
}

/** Razor named the tcz directory (…/tinycorelinux/4.x/x86/tcz): its series and arch, if the URI has that form. */
export function mirrorSeries(uri: string): { release: string; arch: string } | undefined {
  const m = /\/([0-9]+\.x)\/(x86|x86_64)\/tcz\/?$/.exec(uri);
  return m ? { release: m[1]!, arch: m[2]! } : undefined;
}

/** The mirror's root, from either a root or Razor's tcz-directory form. */
export const mirrorRoot = (uri: string): string =>
  uri.replace(/\/[0-9]+\.x\/(x86|x86_64)\/tcz\/?$/, "").replace(/(.)\/+$/, "$1");
