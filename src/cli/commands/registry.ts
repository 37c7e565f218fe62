// `mkbundle push` and `mkbundle pull`: images and bundles as one OCI artifact in a registry.
import { Option, type Command } from "commander";
import { runPull, runPush, runVerify } from "../../context/publish.js";
import { MkError } from "../../errors.js";
import { humanBytes } from "../../store/progress.js";
import { addGlobalOptions, globalsOf, registryPlainHttpOption, sessionOf, wholeNumber } from "../options.js";

interface RegistryCliOptions {
  revision?: string;
  mountFrom?: string;
  signKey?: string;
  verifyKey?: string;
  key?: string;
  json?: boolean;
}

const timeoutOption = () =>
  new Option("--download-timeout <seconds>", "the longest one registry request may take, retries included")
    .default(600)
    .argParser(wholeNumber("--download-timeout"));

export function registryCommands(program: Command): void {
  addGlobalOptions(
    program
      .command("push")
      .summary("push a bundle, an ISO, PXE files and the lock to an OCI registry as one artifact")
      .description(
        "Push FILEs to REF (REGISTRY/REPOSITORY:TAG) as one OCI artifact: artifactType " +
          "application/vnd.mkbundle.image.v1, one layer per file titled with its name, annotations naming the " +
          "manifest, flavour, version, base ISO digest and --revision. Blobs the registry has are not sent again. " +
          "Credentials: MKBUNDLE_REGISTRY_USERNAME/MKBUNDLE_REGISTRY_PASSWORD, REGISTRY_AUTH_FILE, or docker/podman's " +
          "login files; never printed.\n\n" +
          "With --sign-key KEY (an ECDSA P-256 PEM key; MKBUNDLE_SIGN_KEY_PASSWORD opens an encrypted one) the bundle " +
          "among the files also gives an SBOM (SPDX 2.3, listing the pushed files) and a provenance statement (in-toto, " +
          "SLSA v1: the manifest's and lock's digests, mkbundle's version, --revision); both, and a cosign simple-signing " +
          "signature over the artifact's digest and theirs, are attached as OCI referrers (the referrers API, or the " +
          "sha256-<digest> tag where the registry has none). mkbundle verify and pull --verify-key check them.\n\n" +
          "  mkbundle push --sign-key keys/release.pem build-files/hello-service-bundle-prod.tar.gz build-files/hello-service-prod-1.0.0.iso manifests/hello-service.lock registry.example.com/team/hello-service:1.0.0",
      )
      .argument("<files-and-ref...>", "the files, then the reference")
      .addOption(registryPlainHttpOption())
      .option("--revision <rev>", "the source revision to record (org.opencontainers.image.revision)")
      .option(
        "--mount-from <repository>",
        "a repository of the same registry (e.g. team/razor-mk-staging) whose blobs are mounted, not uploaded again",
      )
      .option("--sign-key <file>", "sign it (ECDSA P-256 PEM key) and attach its SBOM and provenance as referrers")
      .addOption(timeoutOption())
      .option("--json", "print the reference, digest and layers as JSON"),
    ["mirror", "work-dir", "out"],
  ).action(async (args: string[], _o: unknown, cmd: Command) => {
    const o = globalsOf<RegistryCliOptions>(cmd);
    const session = sessionOf(cmd);
    if (args.length < 2)
      throw new MkError("usage", "give one or more files, then a reference", {
        hint: "mkbundle push FILE... REGISTRY/REPOSITORY:TAG",
      });
    const r = await runPush(session, args.slice(0, -1), args[args.length - 1]!, {
      ...(o.revision ? { revision: o.revision } : {}),
      ...(o.mountFrom ? { mountFrom: o.mountFrom } : {}),
      ...(o.signKey ? { signKey: o.signKey } : {}),
      onLayer: (title, sent) =>
        session.log.info(`${sent === "exists" ? "present " : sent === "mounted" ? "mounted " : "uploaded"} ${title}`),
    });
    if (r.signed)
      session.log.info(
        `signed: signature ${r.signed.signature}, SBOM ${r.signed.sbom}, provenance ${r.signed.provenance}`,
      );
    if (o.json) session.print(JSON.stringify(r, null, 2));
    else session.print(`${r.reference}@${r.digest}`);
  });

  addGlobalOptions(
    program
      .command("pull")
      .summary("pull an artifact pushed by mkbundle push into --out, every file verified")
      .description(
        "Pull REF (REGISTRY/REPOSITORY:TAG or @sha256:DIGEST) into --out: each layer is written under its title, " +
          "checked against its digest and size; files appear only when all have arrived. Refuses manifests whose " +
          "titles are not plain file names. With --verify-key PUB, nothing is written unless the artifact is signed " +
          "by that key and its SBOM and provenance check out (as mkbundle verify).\n\n" +
          "  mkbundle pull --verify-key keys/release.pub registry.example.com/team/hello-service:1.0.0 --out images/",
      )
      .argument("<ref>", "REGISTRY/REPOSITORY:TAG or REGISTRY/REPOSITORY@sha256:DIGEST")
      .addOption(registryPlainHttpOption())
      .option("--verify-key <file>", "refuse it unless signed by this public key (PEM), with its SBOM and provenance")
      .addOption(timeoutOption())
      .option("--json", "print the files pulled as JSON"),
    ["mirror", "work-dir"],
  ).action(async (refText: string, _o: unknown, cmd: Command) => {
    const o = globalsOf<RegistryCliOptions>(cmd);
    const session = sessionOf(cmd);
    const r = await runPull(session, refText, {
      onLayer: (title, size) => session.log.info(`verified ${title} (${humanBytes(size)})`),
      ...(o.verifyKey ? { verifyKey: o.verifyKey } : {}),
      onVerified: (what) => session.log.info(`verified ${what}`),
    });
    if (o.json) session.print(JSON.stringify(r, null, 2));
    else session.print(r.files.map((f) => `${f.path} (${humanBytes(f.size)})`).join("\n"));
  });
}

export function verifyCommand(program: Command): void {
  addGlobalOptions(
    program
      .command("verify")
      .summary("check that an artifact in a registry is signed by a key, with its SBOM, provenance and layers")
      .description(
        "Verify REF against the public key PUB (PEM, ECDSA P-256): a cosign simple-signing signature among its " +
          "referrers was made by the key over this artifact's digest; the SBOM and provenance it names are attached " +
          "and are those bytes; the SBOM's pushed files are exactly the artifact's layers; the provenance's subject is " +
          "the artifact; and every layer's bytes match its digest. Exit 1 naming the first thing that does not hold. " +
          "Nothing is written.\n\n" +
          "  mkbundle verify registry.example.com/team/hello-service:1.0.0 --key keys/release.pub\n" +
          "  openssl ec -in keys/release.pem -pubout -out keys/release.pub   # the public key of a signing key",
      )
      .argument("<ref>", "REGISTRY/REPOSITORY:TAG or REGISTRY/REPOSITORY@sha256:DIGEST")
      .requiredOption("--key <file>", "the signer's public key (PEM)")
      .addOption(registryPlainHttpOption())
      .addOption(timeoutOption())
      .option("--json", "print what was verified as JSON"),
    ["mirror", "work-dir", "out"],
  ).action(async (refText: string, _o: unknown, cmd: Command) => {
    const o = globalsOf<RegistryCliOptions>(cmd);
    const session = sessionOf(cmd);
    const r = await runVerify(session, refText, o.key!, (what) => session.log.info(`verified ${what}`));
    if (o.json) session.print(JSON.stringify(r, null, 2));
    else
      session.print(
        `${r.reference}@${r.digest}: signed by the key, ${r.layers.length} layers, SBOM and provenance verified`,
      );
  });
}
