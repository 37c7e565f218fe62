// `mkbundle sbom BUNDLE|MANIFEST`: what is in the image, as SPDX 2.3 or CycloneDX 1.5 JSON.
import { Option, type Command } from "commander";
import { manifestFileRun } from "../../context/manifest.js";
import { runBundle } from "../../context/pipeline.js";
import { runSbom } from "../../context/inspect.js";
import type { SbomFormat } from "../../bundle/sbom.js";
import { addFetchOptions, addGlobalOptions, sessionOf, type FetchOptions } from "../options.js";
import { lineSink } from "../output.js";

export function sbomCommand(program: Command): void {
  addFetchOptions(
    addGlobalOptions(
      program
        .command("sbom")
        .summary("what is in an image: an SBOM (SPDX 2.3 or CycloneDX 1.5 JSON) from its bundle")
        .description(
          "Print the software bill of materials of the image a bundle makes (a manifest is bundled first, as " +
            "mkbundle bundle does): the base ISO (Tiny Core release, kernel release), every extension (version from its " +
            ".info where the bundle holds one, download location, sha256 and md5, its dependencies), gems, the EFI " +
            "loader, downloaded kernel modules and every overlay file (sha1, sha256, the manifest key it came from); the " +
            "image CONTAINS each, an extension DEPENDS_ON what its .dep names. Dated by the build's epoch: the same " +
            "bundle gives the same bytes. mkbundle build also writes it beside the ISO as NAME.spdx.json.\n\n" +
            "  mkbundle sbom build-files/hello-service-bundle-prod.tar.gz --format cyclonedx",
        )
        .argument("<file>", "a bundle (.tar.gz) or a manifest (.yaml)")
        .addOption(
          new Option("--format <format>", "spdx (SPDX 2.3 JSON) or cyclonedx (CycloneDX 1.5 JSON)")
            .choices(["spdx", "cyclonedx"])
            .default("spdx"),
        ),
    ),
  ).action(async (file: string, opts: FetchOptions & { format: SbomFormat }, cmd: Command) => {
    const session = sessionOf(cmd);
    const bundle = /\.ya?ml$/i.test(file)
      ? (await runBundle(session, manifestFileRun(session, file), {})).bundle.path
      : file;
    const sink = lineSink(session.io.out);
    await sink.line((await runSbom(session, bundle, opts.format)).trimEnd());
    await sink.end();
  });
}
