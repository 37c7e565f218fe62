// boot.uefi.sign, as firmware judges it. The hello service with boot.uefi is built signed
// with Debian's snakeoil test key (its certificate is enrolled in OVMF_VARS_4M.snakeoil.fd):
// sbverify accepts the EFI loader and the kernel from the ESP and refuses a tampered copy;
// OVMF with Secure Boot on starts the signed image (the kernel's EFI stub says Secure Boot is
// enabled, the service answers HTTP) and refuses the same image unsigned. Two builds give the
// same ISO. The key file carries a marker line: neither it nor any of the key's bytes appear in
// any output, in the bundle or in what mkbundle prints, also when the key is refused.
import { createHash, createPrivateKey } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { mkbundleAsync, type CliResult } from "../helpers/cli.js";
import { fixturesDir, repoRoot } from "../helpers/paths.js";
import { q, sh } from "../helpers/run.js";
import { tempDir } from "../helpers/tmp.js";

const { dir, write } = tempDir("mkbundle-sb-");
const mirror = () => join(fixturesDir(), "tinycore");
const LOADER = "/usr/lib/systemd/boot/efi/systemd-bootx64.efi"; // Debian's systemd-boot-efi
const SNAKEOIL = { key: "/usr/share/ovmf/PkKek-1-snakeoil.key", cert: "/usr/share/ovmf/PkKek-1-snakeoil.pem" };
const VARS = "/usr/share/OVMF/OVMF_VARS_4M.snakeoil.fd"; // Debian's ovmf: the snakeoil certificate in db
const MARKER = "MKBUNDLE-KEY-MARKER-7f3a9c";
const sha = (f: string) => createHash("sha256").update(readFileSync(f)).digest("hex");
const hello = readFileSync(join(repoRoot, "manifests", "hello-service.yaml"), "utf8");

/** hello-service for UEFI, signed with keys/ next to it when `sign`. */
const manifest = (name: string, sign: boolean) =>
  hello.replace("name: hello-service", `name: ${name}`).replace(
    "boot:\n",
    `boot:
  uefi:
    loader: { url: ${LOADER}, sha256: ${sha(LOADER)} }
${sign ? "    sign: { key: keys/db.key, cert: keys/db.pem }\n" : ""}`,
  );
const build = (m: string, out: string) =>
  mkbundleAsync(["build", m, "--mirror", mirror(), "--work-dir", join(dir, "wd"), "--out", join(dir, out)]);

/** Every file under `root`, recursively. */
const filesUnder = (root: string): string[] =>
  readdirSync(root, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(join(root, e.name)) : [join(root, e.name)],
  );

describe("Secure Boot signing (boot.uefi.sign)", () => {
  it("sbverify and OVMF with the key enrolled accept the signed image; the unsigned one is refused; no key leaks", async () => {
    // The snakeoil key, decrypted (mkbundle reads unencrypted PEM), with a marker line before it.
    const keyPem = createPrivateKey({ key: readFileSync(SNAKEOIL.key), passphrase: "snakeoil" })
      .export({ type: "pkcs8", format: "pem" })
      .toString();
    write("app/keys/db.key", `${MARKER}\n${keyPem}`);
    write("app/keys/db.pem", readFileSync(SNAKEOIL.cert, "utf8"));
    const cert = join(dir, "app/keys/db.pem");
    const keyDer = createPrivateKey(keyPem).export({ type: "pkcs8", format: "der" });
    const keyB64 = keyPem.split("\n")[5]!; // a line from the middle of the key's base64

    const signed = write("app/signed.yaml", manifest("signed", true));
    const a = await build(signed, "out-a");
    expect(a.code, a.stderr).toBe(0);
    const iso = a.stdout.trim();
    const b = await build(signed, "out-b");
    expect(b.code, b.stderr).toBe(0);
    expect(sha(b.stdout.trim())).toBe(sha(iso)); // same inputs, same bytes

    // The loader and the kernel as the firmware finds them, checked by sbsigntool.
    for (const [inner, name] of [
      ["EFI/BOOT/BOOTX64.EFI", "loader.efi"],
      ["boot/vmlinuz64", "kernel.efi"],
    ] as const) {
      const file = join(dir, name);
      writeFileSync(file, sh(`node ${q(join(repoRoot, "dist/src/cli/main.js"))} cat ${q(iso)} efi.img ${inner}`));
      expect(sh(`sbverify --cert ${q(cert)} ${q(file)} 2>&1`).toString()).toContain("Signature verification OK");
      const bytes = readFileSync(file);
      bytes[4096] = bytes[4096]! ^ 1;
      writeFileSync(`${file}.tampered`, bytes);
      expect(() => sh(`sbverify --cert ${q(cert)} ${q(`${file}.tampered`)} 2>&1`)).toThrow();
    }
    const other = join(dir, "other.pem");
    sh(
      `openssl req -x509 -newkey rsa:2048 -nodes -keyout ${q(join(dir, "other.key"))} -out ${q(other)} -days 3650 -subj /CN=other 2>/dev/null`,
    );
    expect(() => sh(`sbverify --cert ${q(other)} ${q(join(dir, "loader.efi"))} 2>&1`)).toThrow();

    const unsigned = write("app/unsigned.yaml", manifest("unsigned", false));
    const u = await build(unsigned, "out-a");
    expect(u.code, u.stderr).toBe(0);

    // Firmware with the certificate in db: the signed image boots, the unsigned one does not.
    const boot = await mkbundleAsync([
      "test",
      iso,
      "--secure-boot",
      VARS,
      "--expect",
      "EFI stub: UEFI Secure Boot is enabled",
      "--port",
      "18187:80",
      "--http",
      "http://127.0.0.1:18187/~Hello from a Tiny Core microkernel",
      "--timeout",
      "300",
    ]);
    expect(boot.code, boot.stderr.slice(-4000)).toBe(0);
    const refused = await mkbundleAsync([
      "test",
      u.stdout.trim(),
      "--secure-boot",
      VARS,
      "--expect",
      "BdsDxe: failed to load Boot0001 .*: Access Denied",
      "--timeout",
      "180",
    ]);
    expect(refused.code, refused.stderr.slice(-4000)).toBe(0);

    // The bundle without its key: rebuild-iso says what it needs.
    const noKey = await mkbundleAsync([
      "rebuild-iso",
      "--bundle",
      join(dir, "out-a", "signed-bundle-prod.tar.gz"),
      "--out",
      join(dir, "out-c"),
    ]);
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toContain("pass --sign-key KEY --sign-cert CERT");

    // Refusals name the file, never its contents.
    const refusals: CliResult[] = [];
    write("app/keys/db.key", `${MARKER}\n${readFileSync(SNAKEOIL.key, "utf8")}`); // encrypted
    refusals.push(await build(signed, "out-d"));
    write(
      "app/keys/db.key",
      `${MARKER}\n${createPrivateKey(readFileSync(join(dir, "other.key")))
        .export({ type: "pkcs8", format: "pem" })
        .toString()}`,
    );
    refusals.push(await build(signed, "out-d"));
    write("app/keys/db.key", `${MARKER}\n${keyPem}`);
    expect(refusals.map((r) => r.code)).toEqual([2, 2]);
    expect(refusals[0]!.stderr).toContain("keys/db.key is not a private key mkbundle can read");
    expect(refusals[1]!.stderr).toContain("keys/db.pem is not the certificate of the key");

    // No key material anywhere: outputs, bundles, state, and what was printed.
    const printed = [a, b, u, boot, refused, noKey, ...refusals].map((r) => r.stdout + r.stderr).join("\n");
    const needles = [Buffer.from(MARKER), Buffer.from(keyB64), keyDer.subarray(keyDer.length - 64)];
    const outputs = ["out-a", "out-b", "out-c", "out-d"].map((o) => join(dir, o)).filter((o) => existsSync(o));
    for (const f of outputs.flatMap(filesUnder).filter((f) => statSync(f).size)) {
      const bytes = readFileSync(f);
      for (const n of needles) expect(bytes.includes(n), `${f} holds key material`).toBe(false);
    }
    for (const n of [MARKER, keyB64]) expect(printed).not.toContain(n);
  }, 900_000);
});
