import { describe, expect, it } from "vitest";
import { editIsolinuxCfg } from "../../src/remaster/isolinux-edit.js";

const CORE =
  "display boot.msg\ndefault microcore\nlabel microcore\n\tkernel /boot/vmlinuz\n\tinitrd /boot/core.gz\n\tappend loglevel=3 nozswap\n\nlabel mc\n\tkernel /boot/vmlinuz\n\tappend initrd=/boot/core.gz loglevel=3 nozswap\nimplicit 0\nprompt 1\ntimeout 300";

describe("isolinux.cfg edits", () => {
  it("adds boot codes to the default label only, once", () => {
    const out = editIsolinuxCfg(CORE, { append: ["console=ttyS0", "nozswap"] });
    expect(out).toContain("\tappend loglevel=3 nozswap console=ttyS0\n");
    expect(out).toContain("\tappend initrd=/boot/core.gz loglevel=3 nozswap\n"); // label mc untouched
  });

  it("timeout 0 boots at once (no prompt); seconds become tenths", () => {
    expect(editIsolinuxCfg(CORE, { append: [], timeoutSeconds: 0 })).toMatch(/\nprompt 0\ntimeout 1$/);
    expect(editIsolinuxCfg(CORE, { append: [], timeoutSeconds: 10 })).toMatch(/\nprompt 1\ntimeout 100$/);
    expect(editIsolinuxCfg(CORE, { append: [] })).toMatch(/\nprompt 1\ntimeout 300$/);
  });

  it("sets the initrd list on an initrd line or an append initrd= code", () => {
    expect(editIsolinuxCfg(CORE, { append: [], initrds: ["/boot/core.gz", "/boot/app.gz"] })).toContain(
      "\tinitrd /boot/core.gz,/boot/app.gz\n",
    );
    const pure64 =
      "default corepure64\nlabel corepure64\nkernel /boot/vmlinuz64\nappend initrd=/boot/corepure64.gz quiet\n";
    expect(editIsolinuxCfg(pure64, { append: ["console=ttyS0"], initrds: ["/boot/corepure64.gz", "/boot/x.gz"] })).toBe(
      "default corepure64\nlabel corepure64\nkernel /boot/vmlinuz64\nappend initrd=/boot/corepure64.gz,/boot/x.gz quiet console=ttyS0\n",
    );
  });

  it("adds an append line when the label has none", () => {
    expect(editIsolinuxCfg("default a\nlabel a\n  kernel /k\n  initrd /i\n", { append: ["console=ttyS0"] })).toBe(
      "default a\nlabel a\n  kernel /k\n  initrd /i\n  append console=ttyS0\n",
    );
  });
});
