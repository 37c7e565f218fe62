// `mkbundle push` and `mkbundle pull`: images and bundles as one OCI artifact in a registry.
import { Option, type Command } from "commander";
import { runPull, runPush } from "../../context/publish.js";
import { MkError } from "../../errors.js";
import { humanBytes } from "../../store/progress.js";
import { addGlobalOptions, globalsOf, registryPlainHttpOption, sessionOf, wholeNumber } from "../options.js";

interface RegistryCliOptions {
  revision?: string;
  mountFrom?: string;
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
          "  mkbundle push build-files/hello-service-bundle-prod.tar.gz build-files/hello-service-prod-1.0.0.iso manifests/hello-service.lock registry.example.com/team/hello-service:1.0.0",
      )
      .argument("<files-and-ref...>", "the files, then the reference")
      .addOption(registryPlainHttpOption())
      .option("--revision <rev>", "the source revision to record (org.opencontainers.image.revision)")
      .option(
        "--mount-from <repository>",
        "a repository of the same registry (e.g. team/razor-mk-staging) whose blobs are mounted, not uploaded again",
      )
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
      onLayer: (title, sent) =>
        session.log.info(`${sent === "exists" ? "present " : sent === "mounted" ? "mounted " : "uploaded"} ${title}`),
    });
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
          "titles are not plain file names.\n\n  mkbundle pull registry.example.com/team/hello-service:1.0.0 --out images/",
      )
      .argument("<ref>", "REGISTRY/REPOSITORY:TAG or REGISTRY/REPOSITORY@sha256:DIGEST")
      .addOption(registryPlainHttpOption())
      .addOption(timeoutOption())
      .option("--json", "print the files pulled as JSON"),
    ["mirror", "work-dir"],
  ).action(async (refText: string, _o: unknown, cmd: Command) => {
    const o = globalsOf<RegistryCliOptions>(cmd);
    const session = sessionOf(cmd);
    const r = await runPull(session, refText, {
      onLayer: (title, size) => session.log.info(`verified ${title} (${humanBytes(size)})`),
    });
    if (o.json) session.print(JSON.stringify(r, null, 2));
    else session.print(r.files.map((f) => `${f.path} (${humanBytes(f.size)})`).join("\n"));
  });
}
