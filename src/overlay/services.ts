// services: a script each in /opt/mkbundle/services, started in the background from the
// base's own /opt/bootlocal.sh (which the stock bootsync.sh runs), output to its log.
import { readAllData, type Entry } from "../tree/entry.js";
import { file, type OverlayInput } from "./types.js";

export const SERVICES_DIR = "opt/mkbundle/services";
const BOOTLOCAL = "opt/bootlocal.sh";

export function serviceScript(name: string, run: string, log: string): string {
  return `#!/bin/sh\n# mkbundle service '${name}', started at boot by /opt/bootlocal.sh (as root, in the background)\n{\n${run}\n} >> ${log} 2>&1\n`;
}

export async function serviceEntries(input: OverlayInput): Promise<Entry[]> {
  const services = input.manifest.services;
  if (!services.length) return [];
  const out = services.map((s) => file(`${SERVICES_DIR}/${s.name}.sh`, Buffer.from(serviceScript(s.name, s.run, s.log)), input.epoch, 0o755));
  const base = input.base.get(BOOTLOCAL);
  const original = base?.type === "file" ? (await readAllData(base)).toString("utf8") : "#!/bin/sh\n";
  const lines = services.map((s) => `/${SERVICES_DIR}/${s.name}.sh &`);
  const text = `${original.endsWith("\n") ? original : `${original}\n`}# services added by mkbundle\n${lines.join("\n")}\n`;
  out.push(file(BOOTLOCAL, Buffer.from(text), input.epoch, base?.mode ?? 0o755, base?.uid ?? 0, base?.gid ?? 0));
  return out;
}
