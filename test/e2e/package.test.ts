// The npm package as a user installs it: `npm pack` of the built checkout, installed into an
// empty project. It carries the LICENSE its package.json names, no lifecycle script that
// needs the dev dependencies, and a working `mkbundle`; push's --help shows only what push uses.
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { mkbundle } from "../helpers/cli.js";
import { repoRoot } from "../helpers/paths.js";
import { tempDir } from "../helpers/tmp.js";

const { dir } = tempDir("mkbundle-package-");

const npm = (args: string[], cwd: string) =>
  spawnSync("npm", [...args, "--no-audit", "--no-fund", "--prefer-offline"], {
    cwd,
    encoding: "utf8",
    timeout: 300_000,
  });

describe("the npm package", () => {
  it("has its LICENSE, no prepare script, installs without a warning and runs", () => {
    // A copy of the publishable files: packing in the checkout would rewrite its package.json.
    const src = join(dir, "src");
    for (const f of ["package.json", "README.md", "LICENSE", "scripts", "schemas", "dist/src", "dist/schemas"])
      cpSync(join(repoRoot, f), join(src, f), { recursive: true });
    const packed = npm(["pack", "--pack-destination", dir, "--json"], src);
    expect(packed.status, packed.stderr).toBe(0);
    const [info] = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[];
    const files = info!.files.map((f) => f.path);
    expect(files).toContain("LICENSE");
    expect(readFileSync(join(src, "package.json"), "utf8")).toBe(readFileSync(join(repoRoot, "package.json"), "utf8"));
    const tgz = join(dir, info!.filename);
    const shipped = spawnSync("tar", ["-xzOf", tgz, "package/package.json"], { encoding: "utf8" });
    const pkg = JSON.parse(shipped.stdout) as { license: string; scripts: Record<string, string> };
    expect(pkg.license).toBe("Apache-2.0");
    expect(pkg.scripts["prepare"]).toBeUndefined();
    expect(readFileSync(join(repoRoot, "LICENSE"), "utf8")).toMatch(/Apache License\s+Version 2\.0/);

    const user = join(dir, "user");
    mkdirSync(user);
    expect(npm(["init", "-y"], user).status).toBe(0);
    const installed = npm(["install", tgz], user);
    expect(installed.status, installed.stderr).toBe(0);
    expect(installed.stderr).not.toMatch(/install-scripts|prepare/);
    const version = spawnSync(join(user, "node_modules/.bin/mkbundle"), ["--version"], { encoding: "utf8" });
    expect(version.stdout.trim()).toBe((pkg as unknown as { version: string }).version);
  }, 300_000);

  it("push --help shows only the options push uses", () => {
    const help = mkbundle(["push", "--help"]).stdout;
    expect(help).not.toMatch(/--mirror|--work-dir|--out /);
    expect(help).toContain("--plain-http");
    const pull = mkbundle(["pull", "--help"]).stdout;
    expect(pull).not.toMatch(/--mirror|--work-dir/);
    expect(pull).toContain("--out <dir>");
  });
});
