// Stand-ins for QEMU (MKBUNDLE_QEMU): small shell scripts that print, sleep or fail the way
// a real QEMU would, and a fake KVM device so the KVM path runs on every host.
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export function standIn(dir: string, name: string, script: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\n${script}`);
  chmodSync(path, 0o755);
  return path;
}

/** A QEMU that fails the way broken hosts do under -accel kvm, and is the real QEMU otherwise. */
export function brokenKvm(dir: string, name: string, underKvm: string): string {
  return standIn(dir, name, `case " $* " in *" -accel kvm "*) ${underKvm};; esac\nexec qemu-system-x86_64 "$@"\n`);
}

/** A file that stands in for /dev/kvm (MKBUNDLE_KVM_DEVICE). */
export function fakeKvmDevice(dir: string): string {
  const path = join(dir, "fake-kvm");
  writeFileSync(path, "");
  return path;
}
