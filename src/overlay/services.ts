// services: a script each in /opt/mkbundle/services, started in the background from the
// base's own /opt/bootlocal.sh (which the stock bootsync.sh runs). Each says on the
// console when it starts and when it exits (with its status), so a boot log shows whether
// the service ran; its own output goes to its log. kernel_modules with load: boot are
// loaded there first, one modprobe each, before any service starts.
import { BOOTLOCAL, editBootlocal, SERVICES_DIR } from "../tinycore/layout.js";
import { fileEntry, type Entry, readSmallText } from "../tree/entry.js";
import { moduleName } from "./depmod.js";
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
  const modules = (input.manifest.kernel_modules ?? []).filter((k) => k.load === "boot").map((k) => moduleName(k.path));
  if (!services.length && !modules.length) return [];
  const out = services.map((s) =>
    fileEntry(`${SERVICES_DIR}/${s.name}.sh`, Buffer.from(serviceScript(s.name, s.run, s.log)), epoch, 0o755),
  );
  const base = input.base.get(BOOTLOCAL);
  const original = base?.type === "file" ? await readSmallText(base) : undefined;
  const text = editBootlocal(original, {
    last: [
      ...modules.map((m) => `modprobe ${m} || echo "mkbundle: kernel module ${m} did not load" > /dev/console`),
      ...services.map((s) => `/${SERVICES_DIR}/${s.name}.sh &`),
    ],
    comment: modules.length ? "kernel modules and services added by mkbundle" : "services added by mkbundle",
  });
  out.push(fileEntry(BOOTLOCAL, Buffer.from(text), epoch, base?.mode ?? 0o755, base?.uid ?? 0, base?.gid ?? 0));
  return out;
}
