// .dep files: one dependency per line, with the quirks real ones have (blank lines,
// trailing blanks, CRLF, no final newline, empty files, '.tcz' missing) and -KERNEL names.

/** Dependency names without '.tcz', in file order, duplicates dropped. */
export function parseDepFile(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const name = raw.trim().replace(/\.tcz$/, "");
    if (name && !name.startsWith("#") && !out.includes(name)) out.push(name);
  }
  return out;
}

/** scsi-KERNEL -> scsi-3.0.21-tinycore: the name tce-load asks the mirror for. */
export function expandKernel(name: string, kernelRelease: string | undefined): string {
  if (!name.includes("KERNEL")) return name;
  if (!kernelRelease) throw new Error(`'${name}' names -KERNEL but the kernel release is unknown (set kernel: in the manifest)`);
  return name.replace(/-KERNEL$/, `-${kernelRelease}`).replace(/KERNEL/g, kernelRelease);
}
