// Builds that share one --out run at once: each keeps its lines in SHA256SUMS (the file is
// read, changed and written under a lock), and an unchanged build puts back lines that an
// older mkbundle (or a hand edit) lost.
import { spawn } from "node:child_process";
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { BIN, cleanEnv, mkbundleIn } from "../helpers/cli.js";
import { fixturesDir } from "../helpers/paths.js";
import { tempDir } from "../helpers/tmp.js";

const { dir, write } = tempDir("mkbundle-shared-out-");
const mirror = join(dir, "mirror");
const out = join(dir, "out");
let bundle = "";

const run = (args: string[]) =>
  new Promise<{ code: number | null; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: cleanEnv(), stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("exit", (code) => resolve({ code, stderr }));
  });

beforeAll(async () => {
  cpSync(join(fixturesDir(), "tinycore"), mirror, { recursive: true, dereference: true });
  const m = write("shared/shared.yaml", "name: shared\nversion: 1.0.0\nflavour: dev\nbase: { iso: Core-4.4.iso }\n");
  const r = await mkbundleIn(["bundle", m, "--mirror", mirror, "--work-dir", join(dir, "wd"), "--out", out]);
  expect(r.code, r.stderr).toBe(0);
  bundle = join(out, "shared-bundle-dev.tar.gz");
}, 120_000);

const sums = () =>
  new Map(
    readFileSync(join(out, "SHA256SUMS"), "utf8")
      .trim()
      .split("\n")
      .map((l) => [l.slice(66), l.slice(0, 64)] as const),
  );

describe("one --out, many writers", () => {
  it("15 rebuild-iso processes at once keep every SHA256SUMS line", async () => {
    const versions = Array.from({ length: 15 }, (_, i) => `2.0.${i}`);
    const results = await Promise.all(versions.map((v) => run(["rebuild-iso", v, "--bundle", bundle, "--out", out])));
    for (const [i, r] of results.entries()) expect(r.code, `${versions[i]}: ${r.stderr}`).toBe(0);
    const lines = sums();
    for (const v of versions) {
      expect(lines.has(`shared-dev-${v}.iso`), v).toBe(true);
      expect(lines.has(`pxe/shared-dev-${v}/boot.ipxe`), v).toBe(true);
    }
    expect(readdirSync(out).filter((f) => f.endsWith(".lock"))).toEqual([]);
  }, 180_000);

  it("a lock left by a killed process is taken over", async () => {
    writeFileSync(join(out, "SHA256SUMS.lock"), "999999999\n"); // no such process
    const r = await run(["rebuild-iso", "3.0.0", "--bundle", bundle, "--out", out]);
    expect(r.code, r.stderr).toBe(0);
    expect(sums().has("shared-dev-3.0.0.iso")).toBe(true);
    expect(existsSync(join(out, "SHA256SUMS.lock"))).toBe(false);
  });
});
