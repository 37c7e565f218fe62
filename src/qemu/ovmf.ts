// UEFI firmware for QEMU: OVMF (EDK2 for x86_64 virtual machines), from MKBUNDLE_OVMF or
// where distributions install it. A code-only image (OVMF_CODE*.fd, edk2-x86_64-code.fd) is
// mapped as read-only flash; a combined one (OVMF.fd) is given as -bios. Without a vars
// image, variables live in memory: every boot starts from the same firmware state.
import { statSync } from "node:fs";
import { basename } from "node:path";
import { MkError } from "../errors.js";

const CANDIDATES = [
  "/usr/share/OVMF/OVMF_CODE_4M.fd", // Debian 12, Ubuntu 22.04+
  "/usr/share/OVMF/OVMF_CODE.fd", // Debian, Ubuntu
  "/usr/share/ovmf/OVMF.fd",
  "/usr/share/edk2/ovmf/OVMF_CODE.fd", // Fedora
  "/usr/share/edk2/x64/OVMF_CODE.4m.fd", // Arch
  "/usr/share/edk2-ovmf/x64/OVMF_CODE.fd",
  "/usr/share/qemu/edk2-x86_64-code.fd", // QEMU's own build
  "/opt/homebrew/share/qemu/edk2-x86_64-code.fd", // macOS, Homebrew
  "/usr/local/share/qemu/edk2-x86_64-code.fd",
];
/** Firmware images are a few MiB; a value pointing at something huge is a mistake. */
const MAX_FIRMWARE = 64 * 1024 * 1024;

const isFirmwareFile = (path: string): boolean => {
  try {
    const st = statSync(path);
    return st.isFile() && st.size > 0 && st.size <= MAX_FIRMWARE;
  } catch {
    return false;
  }
};

/** `given`: the configuration's MKBUNDLE_OVMF, when set. */
export function findOvmf(given: string | undefined): string {
  if (given) {
    if (!isFirmwareFile(given))
      throw new MkError("usage", `MKBUNDLE_OVMF '${given}' is not a firmware file (a regular file up to 64 MiB)`, {
        hint: "name OVMF's code image, e.g. /usr/share/OVMF/OVMF_CODE_4M.fd",
      });
    return given;
  }
  const found = CANDIDATES.find(isFirmwareFile);
  if (found) return found;
  throw new MkError("boot", "UEFI firmware (OVMF) is not installed", {
    hint: "install it: apt-get install ovmf (Debian/Ubuntu), dnf install edk2-ovmf (Fedora), brew install qemu (macOS); or set MKBUNDLE_OVMF to its code image",
  });
}

/** QEMU's arguments for a firmware image. */
export const firmwareArgs = (path: string): string[] =>
  /code/i.test(basename(path)) ? ["-drive", `if=pflash,format=raw,unit=0,readonly=on,file=${path}`] : ["-bios", path];

/** OVMF built for Secure Boot (it needs SMM, so it runs on a q35 machine with SMM on). */
const SECURE_BOOT_CODE = [
  "/usr/share/OVMF/OVMF_CODE_4M.secboot.fd", // Debian 12, Ubuntu 22.04+
  "/usr/share/OVMF/OVMF_CODE.secboot.fd",
  "/usr/share/edk2/ovmf/OVMF_CODE.secboot.fd", // Fedora
  "/usr/share/edk2/x64/OVMF_CODE.secboot.4m.fd", // Arch
];

/** --secure-boot: OVMF's Secure Boot code image (MKBUNDLE_OVMF when set), and the vars template checked. */
export function findSecureBootOvmf(given: string | undefined, vars: string): string {
  if (!isFirmwareFile(vars))
    throw new MkError(
      "usage",
      `--secure-boot '${vars}' is not a firmware variables file (a regular file up to 64 MiB)`,
      {
        hint: "a vars template with your keys enrolled and Secure Boot on, e.g. Debian's /usr/share/OVMF/OVMF_VARS_4M.snakeoil.fd for its test key",
      },
    );
  if (given) return findOvmf(given);
  const found = SECURE_BOOT_CODE.find(isFirmwareFile);
  if (found) return found;
  throw new MkError("boot", "OVMF built for Secure Boot (OVMF_CODE*.secboot.fd) is not installed", {
    hint: "install it: apt-get install ovmf (Debian/Ubuntu), dnf install edk2-ovmf (Fedora); or set MKBUNDLE_OVMF to its code image",
  });
}

/** QEMU's arguments for Secure Boot: SMM on q35, the code read-only, the guest's own copy of the vars. */
export const secureBootArgs = (code: string, vars: string): string[] => [
  "-machine",
  "q35,smm=on",
  "-global",
  "driver=cfi.pflash01,property=secure,value=on",
  "-drive",
  `if=pflash,format=raw,unit=0,readonly=on,file=${code.replaceAll(",", ",,")}`,
  "-drive",
  `if=pflash,format=raw,unit=1,file=${vars.replaceAll(",", ",,")}`,
];
