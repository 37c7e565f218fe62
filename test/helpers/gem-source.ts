// A gem source made by the tests: compact index files (info/<name>) and real .gem
// archives (tar with metadata.gz and data.tar.gz) whose sha256 the index records.
import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { writeTar } from "../../src/formats/tar/writer.js";

/** name -> version -> dependencies ("dep:>= 1.0&< 2" style, as the compact index writes them) */
export type GemSpec = Record<string, Record<string, string[]>>;

export async function makeGemSource(dir: string, spec: GemSpec): Promise<void> {
  mkdirSync(join(dir, "info"), { recursive: true });
  mkdirSync(join(dir, "gems"), { recursive: true });
  for (const [name, versions] of Object.entries(spec)) {
    const lines = ["---"];
    for (const [version, deps] of Object.entries(versions)) {
      const metadata = gzipSync(
        Buffer.from(
          `--- !ruby/object:Gem::Specification\nname: ${name}\nversion: !ruby/object:Gem::Version\n  version: ${version}\n`,
        ),
      );
      const rb = Buffer.from(`module X; VERSION = "${version}"; end\n`);
      const data = gzipSync(
        await writeTar([
          { path: `lib/${name}.rb`, type: "file", mode: 0o644, uid: 0, gid: 0, mtime: 0, size: rb.length, data: rb },
        ]),
      );
      const gem = await writeTar([
        {
          path: "metadata.gz",
          type: "file",
          mode: 0o444,
          uid: 0,
          gid: 0,
          mtime: 0,
          size: metadata.length,
          data: metadata,
        },
        { path: "data.tar.gz", type: "file", mode: 0o444, uid: 0, gid: 0, mtime: 0, size: data.length, data },
      ]);
      writeFileSync(join(dir, "gems", `${name}-${version}.gem`), gem);
      const sha = createHash("sha256").update(gem).digest("hex");
      lines.push(`${version} ${deps.join(",")}|checksum:${sha},ruby:>= 1.8.7`.replace(" |", "|"));
    }
    writeFileSync(join(dir, "info", name), lines.join("\n") + "\n");
  }
}
