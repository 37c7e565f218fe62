// Where things live on a Tiny Core mirror, relative to its root.

/** The files beside each NAME.tcz. */
type Sibling = ".md5.txt" | ".dep" | ".info" | ".list";

export const tczPath = (release: string, arch: string, name: string, suffix: "" | Sibling = ""): string =>
  `${release}/${arch}/tcz/${name}.tcz${suffix}`;

export const releasePath = (release: string, arch: string, file: string): string =>
  `${release}/${arch}/release/${file}`;
