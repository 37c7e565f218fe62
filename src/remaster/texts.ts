// The small text files of a remaster: /tmp/mk-version.yaml, iso-metadata.yaml, boot.ipxe.
/** Versions are [A-Za-z0-9._+-]: plain YAML scalars (0.9.0.1), quoted where YAML would read a number or a boolean (1.0, 2, yes). */
const scalar = (s: string) =>
  /^[A-Za-z0-9][A-Za-z0-9._+-]*$/.test(s) &&
  !/^([-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?|0x[0-9a-f]+|0o[0-7]+|true|false|null|yes|no|on|off|y|n)$/i.test(s)
    ? s
    : JSON.stringify(s);

export const mkVersionYaml = (version: string): string => `mk_version: ${scalar(version)}\n`;

export interface IsoMetadata {
  iso_version: string;
  kernel: { path: string; sha256: string };
  initrd: { path: string; sha256: string }[];
  /** Only when SOURCE_DATE_EPOCH gives one: never the clock. */
  build_time?: string;
  /** prune: what each removing rule left out of the image (mkbundle size shows it). */
  pruned?: { glob: string; files: number; bytes: number }[];
}

export function isoMetadataYaml(m: IsoMetadata): string {
  const lines = [
    "# written by mkbundle rebuild-iso",
    `iso_version: ${scalar(m.iso_version)}`,
    "kernel:",
    `  path: ${m.kernel.path}`,
    `  sha256: ${m.kernel.sha256}`,
    "initrd:",
  ];
  for (const i of m.initrd) lines.push(`  - path: ${i.path}`, `    sha256: ${i.sha256}`);
  if (m.build_time) lines.push(`build_time: ${m.build_time}`);
  if (m.pruned?.length) {
    lines.push("pruned:");
    for (const x of m.pruned)
      lines.push(`  - rule: ${JSON.stringify(x.glob)}`, `    files: ${x.files}`, `    bytes: ${x.bytes}`);
  }
  return lines.join("\n") + "\n";
}

export function ipxeScript(kernel: string, initrds: readonly string[], append: readonly string[]): string {
  const initrdArgs = initrds.map((i) => `initrd=${i}`).join(" ");
  return [
    "#!ipxe",
    `kernel ${kernel} ${[...append, initrdArgs].filter(Boolean).join(" ")}`,
    ...initrds.map((i) => `initrd ${i}`),
    "boot",
    "",
  ].join("\n");
}
