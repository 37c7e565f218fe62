// A gem source made by the tests: compact index files (info/<name>) and real .gem
// archives (tar with metadata.gz and data.tar.gz) whose sha256 the index records.
import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { tarBytes } from "../../src/formats/tar/writer.js";
import { fileEntry } from "../../src/tree/entry.js";

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
      const data = gzipSync(await tarBytes([fileEntry(`lib/${name}.rb`, rb, 0)]));
      const gem = await tarBytes([
        fileEntry("metadata.gz", metadata, 0, 0o444),
        fileEntry("data.tar.gz", data, 0, 0o444),
      ]);
      writeFileSync(join(dir, "gems", `${name}-${version}.gem`), gem);
      const sha = createHash("sha256").update(gem).digest("hex");
      lines.push(`${version} ${deps.join(",")}|checksum:${sha},ruby:>= 1.8.7`.replace(" |", "|"));
    }
    writeFileSync(join(dir, "info", name), lines.join("\n") + "\n");
  }
}
