// services: a script each in /opt/mkbundle/services, started in the background from the
// base's own /opt/bootlocal.sh (which the stock bootsync.sh runs). Each says on the
// console when it starts and when it exits (with its status), so a boot log shows whether
// the service ran; its own output goes to its log.
import { BOOTLOCAL, editBootlocal, SERVICES_DIR } from "../tinycore/layout.js";
import { fileEntry, type Entry, readSmallText } from "../tree/entry.js";
import type { OverlayInput } from "./types.js";

function serviceScript(name: string, run: string, log: string): string {
  return [
    "#!/bin/sh",
    `# mkbundle service '${name}', started at boot by /${BOOTLOCAL} (as root, in the background)`,
    `echo "mkbundle: service ${name} started" > /dev/console`,
    "{",
    run.replace(/\n+$/, ""),
    `} >> ${log} 2>&1`,
    "status=$?",
    `echo "mkbundle: service ${name} exited with $status" > /dev/console`,
    "",
  ].join("\n");
}

export async function serviceEntries(input: OverlayInput): Promise<Entry[]> {
  const { services, epoch } = input.manifest;
  if (!services.length) return [];
  const out = services.map((s) =>
    fileEntry(`${SERVICES_DIR}/${s.name}.sh`, Buffer.from(serviceScript(s.name, s.run, s.log)), epoch, 0o755),
  );
  const base = input.base.get(BOOTLOCAL);
  const original = base?.type === "file" ? await readSmallText(base) : undefined;
  const text = editBootlocal(original, {
    last: services.map((s) => `/${SERVICES_DIR}/${s.name}.sh &`),
    comment: "services added by mkbundle",
  });
  out.push(fileEntry(BOOTLOCAL, Buffer.from(text), epoch, base?.mode ?? 0o755, base?.uid ?? 0, base?.gid ?? 0));
  return out;
}
