// Where things live on a Tiny Core mirror, relative to its root.
export const SIBLINGS = [".md5.txt", ".dep", ".info", ".list"] as const;
export type Sibling = (typeof SIBLINGS)[number];

export const tczPath = (release: string, arch: string, name: string, suffix: "" | Sibling = ""): string => `${release}/${arch}/tcz/${name}.tcz${suffix}`;

export const releasePath = (release: string, arch: string, file: string): string => `${release}/${arch}/release/${file}`;
